FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
RUN pip install --no-cache-dir .
ENV REPORTS_DIR=/app/reports
CMD ["chatbot", "report", "last-week"]

# The bot's image: `chatbot serve` (Slack, the scheduled posts, /healthz on PORT, default 3000).
# Other commands run with the same image: `docker compose run --rm bot-1 chatbot report last-week`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REPORTS_DIR=/app/reports \
    LOG_FORMAT=json
WORKDIR /app
COPY pyproject.toml README.md ./
COPY chatbot ./chatbot
RUN pip install --no-cache-dir . \
    && useradd --system --create-home --home-dir /home/bot bot \
    && mkdir -p /app/reports && chown bot /app/reports
USER bot
EXPOSE 3000
CMD ["chatbot", "serve"]

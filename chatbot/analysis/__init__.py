"""Pure analysis over core models: scoring, figures, themes, recommendations."""

from chatbot.analysis.metrics import compute_figures
from chatbot.analysis.report import build_report
from chatbot.analysis.scoring import rank, score_ticket

__all__ = ["build_report", "compute_figures", "rank", "score_ticket"]

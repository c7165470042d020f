"""Theme names, summaries and recommendations from any OpenAI-compatible server, validated.

The model starts from the offline report and may only rename its themes and rewrite its
recommendations; :class:`~chatbot.llm.refine.ModelRefiner` checks every answer and falls
back to the offline report, saying why, on any failure. Checked answers are kept in an
:class:`~chatbot.core.ports.AnswerCache` (the store's, shared by replicas). Only
``chatbot.app`` imports this.
"""

from chatbot.llm.client import ModelClient, ModelConfig, ModelError
from chatbot.llm.refine import ModelRefiner

__all__ = ["ModelClient", "ModelConfig", "ModelError", "ModelRefiner"]

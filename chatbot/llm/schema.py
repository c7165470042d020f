"""The model's answer as pydantic models, and the JSON schema sent as ``response_format``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: At most this many recommendations, as in the offline report.
MAX_RECOMMENDATIONS = 7


class ThemeAnswer(BaseModel):
    """A new name and one-line summary for the offline theme at ``index``."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    title: str = Field(min_length=3, max_length=80)
    summary: str = Field(min_length=3, max_length=240)


class RecommendationAnswer(BaseModel):
    """One sentence of advice and the tickets (``owner/name#number``) it cites."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=10, max_length=300)
    tickets: list[str] = Field(min_length=1, max_length=20)


class Answer(BaseModel):
    """The whole answer: themes renamed by index, recommendations ranked best first."""

    model_config = ConfigDict(extra="forbid")

    themes: list[ThemeAnswer] = Field(max_length=50)
    recommendations: list[RecommendationAnswer] = Field(max_length=MAX_RECOMMENDATIONS)


def answer_schema() -> dict[str, Any]:
    """The ``response_format`` of a structured-outputs request."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "support_report", "strict": True, "schema": _strict(Answer)},
    }


def _strict(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema in the subset strict structured outputs accept."""
    schema = model.model_json_schema()

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: clean(v) for k, v in node.items() if k not in ("title", "minLength",
                    "maxLength", "minimum", "minItems", "maxItems")}
            if node.get("type") == "object":
                node["additionalProperties"] = False
                node["required"] = list(node.get("properties", {}))
            return node
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    cleaned: dict[str, Any] = clean(schema)
    return cleaned

"""How every report says which parts of a diagnosis a model wrote.

Kept here, beside the assistant that records it, and kept light (it imports only the shared
vocabulary) because every renderer imports it, with or without ``--llm``.
"""

from __future__ import annotations

from typing import Any

from aiops_copilot.models import Diagnosis, ModelProvenance

__all__ = ["MODEL_MARK", "model_count", "provenance_dict", "provenance_line"]

#: Appended to an item a model wrote, in the text reports.
MODEL_MARK = "(model)"

#: (one, many) for each field a model may write.
_FIELD_WORDS = {
    "title": ("title", "title"),
    "root_cause": ("root cause", "root cause"),
    "hypotheses": ("hypothesis", "hypotheses"),
    "remediation": ("remediation step", "remediation steps"),
    "commands": ("command", "commands"),
}
#: Citations named in the one-line summary, and the characters of each label shown.
_CITES_SHOWN = 3
_LABEL_CHARS = 48


def model_count(diagnosis: Diagnosis | None, field: str) -> int:
    """How many leading items of ``field`` (hypotheses, remediation, commands) a model wrote."""
    if diagnosis is None or diagnosis.llm is None:
        return 0
    return int(diagnosis.llm.model_items.get(field, 0))


def provenance_line(provenance: ModelProvenance) -> str:
    """``ollama qwen2.5:3b wrote the title, root cause, 2 hypotheses ... (model confidence
    80%; cites E1 app.log:12, K1 knowledge base x)``"""
    parts: list[str] = []
    for field in provenance.fields:
        count = provenance.model_items.get(field)
        one, many = _FIELD_WORDS.get(field, (field, field))
        if field in ("title", "root_cause"):
            parts.append(f"the {one}" if not parts else one)
        elif count:
            parts.append(f"{count} {one if count == 1 else many}")
    wrote = ", ".join(parts) if parts else "nothing"
    cites = "; ".join(
        f"{i} {_short(provenance.citations.get(i, i))}" for i in provenance.cited[:_CITES_SHOWN]
    )
    extra = len(provenance.cited) - _CITES_SHOWN
    more = f" +{extra} more" if extra > 0 else ""
    cached = ", from the cache" if provenance.cached else ""
    return (
        f"{provenance.provider} {provenance.model} wrote {wrote} "
        f"(model confidence {provenance.confidence:.0%}{cached}; cites {cites}{more})"
    )


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def provenance_dict(provenance: ModelProvenance | None) -> dict[str, Any] | None:
    """The ``llm`` object of the JSON contract (``null`` when no model touched it)."""
    if provenance is None:
        return None
    return {
        "provider": provenance.provider,
        "model": provenance.model,
        "fields": list(provenance.fields),
        "confidence": round(float(provenance.confidence), 4),
        "domain": provenance.domain,
        "cited": list(provenance.cited),
        "citations": dict(provenance.citations),
        "model_items": dict(provenance.model_items),
        "deterministic": dict(provenance.deterministic),
        "cached": provenance.cached,
        "text": provenance_line(provenance),
    }

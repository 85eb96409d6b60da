"""The tables the document reports (Markdown, HTML) show: their columns, cells and alignment.

A table's content (which columns, in which order, what each cell holds, which columns are
numbers) is the same in both documents; only the markup differs. Cells are left unrendered
so each format escapes them its own way: a :class:`Code` cell is shown as code, a
:class:`Count` as a number with thousands separators, and any other value as escaped text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiops_copilot.models import Classification, Signal


@dataclass(frozen=True, slots=True)
class Code:
    """A cell shown as code (an id, a template id): never read as prose or markup."""

    value: Any


@dataclass(frozen=True, slots=True)
class Count:
    """A number from the summary; a value that is not one (a bad summary) shows as text."""

    value: Any


@dataclass(frozen=True, slots=True)
class Table:
    """Column names, rows of cells (one per column), and the columns that align right."""

    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]
    numeric: frozenset[str] = frozenset()


def signals_table(signals: Sequence[Signal], columns: Sequence[str]) -> Table:
    """The signals that raised an incident, in the format's own column order.

    The two documents have always ordered these columns differently (the reason comes last
    in Markdown, where it is the widest cell); what each column holds is the same.
    """
    rows = []
    for s in signals:
        cells: dict[str, object] = {
            "kind": s.kind.value,
            "score": f"{s.score:.2f}",
            "reason": s.reason,
            "template": Code(s.template_id),
            "entry": s.entry_id or "",
            "records": Count(s.count),
        }
        rows.append(tuple(cells[name] for name in columns))
    return Table(tuple(columns), rows, frozenset({"score", "records"}))


def classifier_table(classification: Classification | None) -> Table | None:
    """The domains the classifier scored above zero or gave a reason for, best first.

    ``None`` when nothing was classified (no part at all); a table without rows when it ran
    but no domain earned one (a format may still show the empty table).
    """
    c = classification
    if c is None or not c.scores:
        return None
    rows: list[tuple[object, ...]] = [
        (domain.value, f"{score:.2f}", "; ".join(c.reasons.get(domain, [])))
        for domain, score in c.ranked
        if score > 0 or c.reasons.get(domain)
    ]
    return Table(("domain", "score", "reasons"), rows, frozenset({"score"}))


def sources_table(sources: Sequence[Mapping[str, Any]]) -> Table:
    """Each source read: its name, detected format, lines, records and any error."""
    rows: list[tuple[object, ...]] = [
        (
            s.get("source", ""),
            s.get("format", ""),
            Count(s.get("lines")),
            Count(s.get("records")),
            s.get("error") or "",
        )
        for s in sources
    ]
    columns = ("source", "format", "lines", "records", "note")
    return Table(columns, rows, frozenset({"lines", "records"}))


def levels_table(levels: Mapping[str, Any]) -> Table:
    """Records per log level."""
    rows: list[tuple[object, ...]] = [(level, Count(n)) for level, n in levels.items()]
    return Table(("level", "records"), rows, frozenset({"records"}))


def signatures_table(signatures: Sequence[Mapping[str, Any]]) -> Table:
    """The knowledge base's error signatures seen in the logs, whether or not they raised one."""
    rows: list[tuple[object, ...]] = [
        (
            s.get("severity", ""),
            s.get("domain", ""),
            Code(s.get("id", "")),
            Count(s.get("count")),
            s.get("title", ""),
        )
        for s in signatures
    ]
    columns = ("severity", "domain", "entry", "lines", "title")
    return Table(columns, rows, frozenset({"lines"}))

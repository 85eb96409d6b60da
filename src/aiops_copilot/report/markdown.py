"""The report as GitHub-flavoured Markdown: for a ticket, a pull request or a post-mortem.

Log text is hostile to Markdown: it is full of ``*``, ``_``, ``|``, ``<tag>`` and even
backtick fences. Inline text is escaped, table cells additionally lose their pipes and line
breaks, and raw lines go in fenced blocks whose fence is longer than any backtick run inside,
so nothing a log says can close the block or inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiops_copilot import models
from aiops_copilot.llm.provenance import MODEL_MARK, provenance_line
from aiops_copilot.report import memory as memory_report
from aiops_copilot.report import view
from aiops_copilot.report.sections import incident_parts, summary_parts
from aiops_copilot.report.tables import Code, Count, Table, signals_table

# Markdown punctuation; "_" only at a word's edge (GFM ignores it inside words, so
# max_connections stays readable) and "&" only where it could start an entity.
_ESCAPE = re.compile(r"([\\`*\[\]<>|~#]|(?<!\w)_|_(?!\w)|&(?=[#A-Za-z]))")
_BACKTICKS = re.compile(r"`+")


def render_markdown(result: models.AnalysisResult, *, title: str = "AI Ops Copilot report") -> str:
    """The whole report; the same content as the terminal one, evidence in fenced blocks."""
    out: list[str] = [f"# {esc(title)}", "", f"**{esc(view.headline(result))}**", ""]
    detection = view.detection_line(result.summary)
    if detection:
        out += [f"Detection: {esc(detection)}", ""]
    if result.incidents:
        out += _overview(result.incidents)
        for number, incident in enumerate(result.incidents, start=1):
            out += _incident(incident, number)
    else:
        out += ["No incidents found.", ""]
    out += _summary(result.summary)
    return "\n".join(out).rstrip("\n") + "\n"


def esc(text: str) -> str:
    """Inline text, literal: Markdown punctuation escaped, line breaks folded to spaces."""
    return _ESCAPE.sub(r"\\\1", " ".join(view.printable(str(text)).split()))


def cell(text: Any) -> str:
    """A table cell: as :func:`esc` (pipes are escaped there), never empty-looking."""
    value = esc(str(text))
    return value if value else " "


def code_span(text: str, *, in_table: bool = False) -> str:
    """Inline code that survives backticks inside (the fence is one longer than any run).

    In a table a pipe ends the cell even inside code, so there it is escaped (GFM removes
    the backslash before rendering the span).
    """
    text = " ".join(view.printable(str(text)).split())
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, info: str = "text") -> list[str]:
    """A fenced block no line inside can close: the fence outruns every backtick run."""
    text = view.printable(text)
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.splitlines(), fence]


def _overview(incidents: Sequence[models.Incident]) -> list[str]:
    rows: list[tuple[object, ...]] = [
        (
            _Raw(f"[{number}](#{_anchor(number)})"),
            incident.severity.value,
            view.domain_of(incident) or view.UNCLASSIFIED,
            view.title_of(incident),
            Count(incident.count),
            view.when(incident.first_seen),
            view.when(incident.last_seen),
        )
        for number, incident in enumerate(incidents, start=1)
    ]
    columns = ("#", "severity", "domain", "title", "records", "first seen", "last seen")
    return _table(Table(columns, rows, frozenset({"records"})))


def _anchor(number: int) -> str:
    return f"incident-{number}"


def _incident(incident: models.Incident, number: int) -> list[str]:
    d = incident.diagnosis
    out = [
        # GitHub's documented way to a custom anchor; the heading's own slug depends on the title.
        f'<a name="{_anchor(number)}"></a>',
        "",
        f"## {number}. {incident.severity.value.upper()} · {esc(view.title_of(incident))}",
        "",
    ]
    meta = [
        f"**Domain:** {esc(view.domain_of(incident) or view.UNCLASSIFIED)}",
        f"**Agent:** {esc(d.agent)} (confidence {view.confidence_of(incident):.0%})"
        if d
        else "**Agent:** none",
        f"**ID:** {code_span(incident.id)}",
        f"**Fingerprint:** {code_span(incident.fingerprint)}",
        f"**Records:** {incident.count:,}",
        f"**First seen:** {esc(view.when(incident.first_seen))}",
        f"**Last seen:** {esc(view.when(incident.last_seen))}",
    ]
    meta += [
        f"**{label.capitalize()}:** {', '.join(esc(v) for v in values)}"
        for label, values in view.places_of(incident)
    ]
    history = view.history_line(incident.history)
    if history is not None:
        meta.append(f"**History:** {esc(history)}")
    if incident.caused_by:
        meta.append(f"**Caused by:** {code_span(incident.caused_by)}")
    if incident.symptoms:
        meta.append(f"**Symptoms:** {', '.join(code_span(s) for s in incident.symptoms)}")
    out += [f"- {item}" for item in meta] + [""]
    line = view.timeline(incident.minutes, max_bins=48)
    if line is not None and len(line.counts) > 1:
        out += [
            f"Timeline from {esc(view.minute_label(line.start))} over "
            f"{esc(view.span_words(line.end - line.start))} ({line.width} min per mark, "
            f"peak {line.peak:,}): {code_span(view.sparkline(line))}",
            "",
        ]
    return out + incident_parts(incident, _MARKUP)


def _link(reference: str) -> str:
    """A URL as an autolink (only plain http(s) URLs), anything else as escaped text."""
    if re.fullmatch(r"https?://[^\s<>\"`]+", reference):
        return f"<{reference}>"
    return esc(reference)


def _summary(summary: Mapping[str, Any]) -> list[str]:
    parts = summary_parts(summary, _MARKUP)
    return ["## What was read", "", *parts] if parts else []


def _table(table: Table) -> list[str]:
    """A GFM table and the blank line after it; numeric columns align right.

    A column may be nameless (``| |``), as the hypotheses' mark column is.
    """
    header = " ".join(["|", *(f"{name} |" if name else "|" for name in table.columns)])
    align = "|" + "".join("---:|" if name in table.numeric else "---|" for name in table.columns)
    body = ["| " + " | ".join(_cell(value) for value in row) + " |" for row in table.rows]
    return [header, align, *body, ""]


@dataclass(frozen=True, slots=True)
class _Raw:
    """A cell this module already wrote as Markdown (a link), passed through unescaped."""

    text: str


def _cell(value: object) -> str:
    """A table cell: code as a code span, counts with separators, anything else as text."""
    if isinstance(value, Code):
        return code_span(str(value.value), in_table=True)
    if isinstance(value, Count):
        return _num(value.value)
    if isinstance(value, _Raw):
        return value.text
    return cell(value)


def _bullets(items: Iterable[str]) -> list[str]:
    """A bullet list of items that arrive as Markdown, and the blank line after it."""
    return [*(f"- {item}" for item in items), ""]


class _MarkdownMarkup:
    """The Markdown of each part of an incident and of the reading; ``sections`` picks them."""

    def root_cause(self, d: models.Diagnosis) -> list[str]:
        heading = f"### Root cause {MODEL_MARK}" if d.llm else "### Root cause"
        out = [heading, "", esc(d.root_cause) or "_not stated_", ""]
        if d.llm is not None:
            out += [f"> **Model:** {esc(provenance_line(d.llm))}", ">"]
            out += [f"> **Fixer's root cause:** {esc(d.llm.deterministic.get('root_cause', ''))}"]
            out.append("")
        return out

    def hypotheses(self, hypotheses: Sequence[tuple[models.Hypothesis, bool]]) -> list[str]:
        rows: list[tuple[object, ...]] = [
            (
                view.STATUS_MARK[h.status],
                view.status_words(h.status),
                h.cause + (f" {MODEL_MARK}" if by_model else ""),
                h.because,
                f"{h.score:.2f}",
            )
            for h, by_model in hypotheses
        ]
        table = Table(("", "status", "cause", "because", "score"), rows, frozenset({"score"}))
        return ["### Hypotheses", "", *_table(table)]

    def remediation(self, steps: Sequence[tuple[str, bool]]) -> list[str]:
        mark = f" {esc(MODEL_MARK)}"
        items = [
            f"{i}. {esc(step)}" + (mark if by_model else "")
            for i, (step, by_model) in enumerate(steps, start=1)
        ]
        return ["### Remediation", "", *items, ""]

    def commands(self, commands: Sequence[str], from_model: int) -> list[str]:
        out = ["### Commands", "", *fenced("\n".join(commands), "sh"), ""]
        if from_model:
            out += [f"_The first {from_model} command(s) are the model's._", ""]
        return out

    def second_opinion(self, text: str) -> list[str]:
        return [f"**Second opinion:** {esc(text)}", ""]

    def runbooks(self, passages: Sequence[models.RunbookPassage]) -> list[str]:
        items = (
            f"**{esc(p.title)}** — {esc(memory_report.passage_source(p))}"
            f" (similarity {p.score:.2f}): {esc(memory_report.excerpt(p))}"
            for p in passages
        )
        return ["### Runbooks", "", *_bullets(items)]

    def similar(self, lines: Sequence[str]) -> list[str]:
        return ["### Similar past incidents", "", *_bullets(map(esc, lines))]

    def no_diagnosis(self) -> list[str]:
        return ["_No fixer diagnosis; the signals below raised this incident._", ""]

    def evidence(self, refs: Sequence[models.LineRef]) -> list[str]:
        out = ["### Evidence", ""]
        for ref in refs:
            out += [code_span(ref.location), "", *fenced(ref.text), ""]
        return out

    def signals(self, signals: Sequence[models.Signal]) -> list[str]:
        return ["### Signals", "", *_table(signals_table(signals, _SIGNAL_COLUMNS))]

    def grouped_because(self, reasons: Sequence[str]) -> list[str]:
        return ["### Why grouped", "", *_bullets(map(esc, reasons))]

    def classifier(self, table: Table) -> list[str]:
        return ["### Classifier", "", *_table(table)]

    def references(self, entries: Sequence[str], links: Sequence[str]) -> list[str]:
        items = [f"knowledge base: {code_span(entry)}" for entry in entries]
        return ["### References", "", *_bullets(items + [_link(r) for r in links])]

    def sources(self, table: Table) -> list[str]:
        return _table(table)

    def totals(self, totals: Mapping[str, Any]) -> list[str]:
        return _bullets(f"{esc(str(k).replace('_', ' '))}: {_num(v)}" for k, v in totals.items())

    def skipped(self, skipped: Sequence[Mapping[str, Any]]) -> list[str]:
        items = (f"{esc(s.get('target', ''))}: {esc(s.get('reason', ''))}" for s in skipped)
        return ["Skipped:", "", *_bullets(items)]

    def levels(self, table: Table) -> list[str]:
        return _table(table)

    def signatures(self, table: Table) -> list[str]:
        return ["### Known error signatures seen", "", *_table(table)]


#: The signals table's columns, as this report has always ordered them (the reason, the
#: widest cell, last).
_SIGNAL_COLUMNS = ("kind", "score", "template", "entry", "records", "reason")
_MARKUP = _MarkdownMarkup()


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return cell("" if value is None else str(value))
    return f"{value:,}"

"""The report as GitHub-flavoured Markdown: for a ticket, a pull request or a post-mortem.

Log text is hostile to Markdown: it is full of ``*``, ``_``, ``|``, ``<tag>`` and even
backtick fences. Inline text is escaped, table cells additionally lose their pipes and line
breaks, and raw lines go in fenced blocks whose fence is longer than any backtick run inside,
so nothing a log says can close the block or inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from aiops_copilot.llm.provenance import MODEL_MARK, model_count, provenance_line
from aiops_copilot.models import AnalysisResult, Incident
from aiops_copilot.report import memory as memory_report
from aiops_copilot.report.view import (
    STATUS_MARK,
    UNCLASSIFIED,
    confidence_of,
    detection_line,
    domain_of,
    entry_ids_of,
    evidence_of,
    headline,
    history_line,
    minute_label,
    printable,
    span_words,
    sparkline,
    timeline,
    title_of,
    when,
)

# Markdown punctuation; "_" only at a word's edge (GFM ignores it inside words, so
# max_connections stays readable) and "&" only where it could start an entity.
_ESCAPE = re.compile(r"([\\`*\[\]<>|~#]|(?<!\w)_|_(?!\w)|&(?=[#A-Za-z]))")
_BACKTICKS = re.compile(r"`+")


def render_markdown(result: AnalysisResult, *, title: str = "AI Ops Copilot report") -> str:
    """The whole report; the same content as the terminal one, evidence in fenced blocks."""
    out: list[str] = [f"# {esc(title)}", "", f"**{esc(headline(result))}**", ""]
    detection = detection_line(result.summary)
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
    return _ESCAPE.sub(r"\\\1", " ".join(printable(str(text)).split()))


def cell(text: Any) -> str:
    """A table cell: as :func:`esc` (pipes are escaped there), never empty-looking."""
    value = esc(str(text))
    return value if value else " "


def code_span(text: str, *, in_table: bool = False) -> str:
    """Inline code that survives backticks inside (the fence is one longer than any run).

    In a table a pipe ends the cell even inside code, so there it is escaped (GFM removes
    the backslash before rendering the span).
    """
    text = " ".join(printable(str(text)).split())
    if in_table:
        text = text.replace("|", "\\|")
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fenced(text: str, info: str = "text") -> list[str]:
    """A fenced block no line inside can close: the fence outruns every backtick run."""
    text = printable(text)
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.splitlines(), fence]


def _overview(incidents: Sequence[Incident]) -> list[str]:
    out = [
        "| # | severity | domain | title | records | first seen | last seen |",
        "|---|---|---|---|---:|---|---|",
    ]
    for number, incident in enumerate(incidents, start=1):
        row = [
            f"[{number}](#{_anchor(number)})",
            incident.severity.value,
            cell(domain_of(incident) or UNCLASSIFIED),
            cell(title_of(incident)),
            f"{incident.count:,}",
            cell(when(incident.first_seen)),
            cell(when(incident.last_seen)),
        ]
        out.append("| " + " | ".join(row) + " |")
    return [*out, ""]


def _anchor(number: int) -> str:
    return f"incident-{number}"


def _incident(incident: Incident, number: int) -> list[str]:
    d = incident.diagnosis
    out = [
        # GitHub's documented way to a custom anchor; the heading's own slug depends on the title.
        f'<a name="{_anchor(number)}"></a>',
        "",
        f"## {number}. {incident.severity.value.upper()} · {esc(title_of(incident))}",
        "",
    ]
    meta = [
        f"**Domain:** {esc(domain_of(incident) or UNCLASSIFIED)}",
        f"**Agent:** {esc(d.agent)} (confidence {confidence_of(incident):.0%})"
        if d
        else "**Agent:** none",
        f"**ID:** {code_span(incident.id)}",
        f"**Fingerprint:** {code_span(incident.fingerprint)}",
        f"**Records:** {incident.count:,}",
        f"**First seen:** {esc(when(incident.first_seen))}",
        f"**Last seen:** {esc(when(incident.last_seen))}",
    ]
    for label, values in (
        ("Services", incident.services),
        ("Hosts", incident.hosts),
        ("Sources", incident.sources),
    ):
        if values:
            meta.append(f"**{label}:** {', '.join(esc(v) for v in values)}")
    history = history_line(incident.history)
    if history is not None:
        meta.append(f"**History:** {esc(history)}")
    if incident.caused_by:
        meta.append(f"**Caused by:** {code_span(incident.caused_by)}")
    if incident.symptoms:
        meta.append(f"**Symptoms:** {', '.join(code_span(s) for s in incident.symptoms)}")
    out += [f"- {item}" for item in meta] + [""]
    line = timeline(incident.minutes, max_bins=48)
    if line is not None and len(line.counts) > 1:
        out += [
            f"Timeline from {esc(minute_label(line.start))} over "
            f"{esc(span_words(line.end - line.start))} ({line.width} min per mark, "
            f"peak {line.peak:,}): {code_span(sparkline(line))}",
            "",
        ]
    if d is not None:
        heading = f"### Root cause {MODEL_MARK}" if d.llm else "### Root cause"
        out += [heading, "", esc(d.root_cause) or "_not stated_", ""]
        if d.llm is not None:
            out += [f"> **Model:** {esc(provenance_line(d.llm))}", ">"]
            out += [f"> **Fixer's root cause:** {esc(d.llm.deterministic.get('root_cause', ''))}"]
            out.append("")
        if d.hypotheses:
            out += ["### Hypotheses", "", "| | status | cause | because | score |"]
            out.append("|---|---|---|---|---:|")
            from_model = model_count(d, "hypotheses")
            for index, h in enumerate(d.hypotheses):
                mark = f" {MODEL_MARK}" if index < from_model else ""
                out.append(
                    f"| {STATUS_MARK[h.status]} | {h.status.value.replace('_', ' ')} "
                    f"| {cell(h.cause + mark)} | {cell(h.because)} | {h.score:.2f} |"
                )
            out.append("")
        if d.remediation:
            out += ["### Remediation", ""]
            from_model = model_count(d, "remediation")
            out += [
                f"{i}. {esc(step)}" + (f" {esc(MODEL_MARK)}" if i <= from_model else "")
                for i, step in enumerate(d.remediation, start=1)
            ]
            out.append("")
        if d.commands:
            out += ["### Commands", "", *fenced("\n".join(d.commands), "sh"), ""]
            if model_count(d, "commands"):
                out += [f"_The first {model_count(d, 'commands')} command(s) are the model's._", ""]
        if d.second_opinion:
            out += [f"**Second opinion:** {esc(d.second_opinion)}", ""]
        if d.runbooks:
            out += ["### Runbooks", ""]
            for passage in d.runbooks:
                out.append(
                    f"- **{esc(passage.title)}** — {esc(memory_report.passage_source(passage))}"
                    f" (similarity {passage.score:.2f}): {esc(memory_report.excerpt(passage))}"
                )
            out.append("")
        if d.similar:
            out += ["### Similar past incidents", ""]
            out += [f"- {esc(memory_report.similar_line(s))}" for s in d.similar]
            out.append("")
    else:
        out += ["_No fixer diagnosis; the signals below raised this incident._", ""]
    out += _evidence(incident)
    if incident.signals:
        out += ["### Signals", "", "| kind | score | template | entry | records | reason |"]
        out.append("|---|---:|---|---|---:|---|")
        for s in incident.signals:
            out.append(
                f"| {s.kind.value} | {s.score:.2f} | {code_span(s.template_id, in_table=True)} "
                f"| {cell(s.entry_id or '')} | {s.count:,} | {cell(s.reason)} |"
            )
        out.append("")
    if incident.grouped_because:
        out += ["### Why grouped", "", *(f"- {esc(w)}" for w in incident.grouped_because), ""]
    out += _classification(incident)
    refs = d.references if d else []
    entries = entry_ids_of(incident)
    if entries or refs:
        out += ["### References", ""]
        out += [f"- knowledge base: {code_span(e)}" for e in entries]
        out += [f"- {_link(r)}" for r in refs]
        out.append("")
    return out


def _evidence(incident: Incident) -> list[str]:
    refs = evidence_of(incident, 10)
    if not refs:
        return []
    out = ["### Evidence", ""]
    for ref in refs:
        out += [code_span(ref.location), "", *fenced(ref.text), ""]
    return out


def _classification(incident: Incident) -> list[str]:
    c = incident.classification
    if c is None or not c.scores:
        return []
    out = ["### Classifier", "", "| domain | score | reasons |", "|---|---:|---|"]
    for domain, score in c.ranked:
        if score <= 0 and not c.reasons.get(domain):
            continue
        reasons = "; ".join(c.reasons.get(domain, []))
        out.append(f"| {domain.value} | {score:.2f} | {cell(reasons)} |")
    return [*out, ""]


def _link(reference: str) -> str:
    """A URL as an autolink (only plain http(s) URLs), anything else as escaped text."""
    if re.fullmatch(r"https?://[^\s<>\"`]+", reference):
        return f"<{reference}>"
    return esc(reference)


def _summary(summary: Mapping[str, Any]) -> list[str]:
    out = ["## What was read", ""]
    sources = [s for s in summary.get("sources", []) if isinstance(s, Mapping)]
    if sources:
        out += [
            "| source | format | lines | records | note |",
            "|---|---|---:|---:|---|",
        ]
        for s in sources:
            out.append(
                f"| {cell(s.get('source', ''))} | {cell(s.get('format', ''))} "
                f"| {_num(s.get('lines'))} | {_num(s.get('records'))} "
                f"| {cell(s.get('error') or '')} |"
            )
        out.append("")
    totals = summary.get("totals")
    if isinstance(totals, Mapping) and totals:
        out += [f"- {esc(str(k).replace('_', ' '))}: {_num(v)}" for k, v in totals.items()]
        out.append("")
    skipped = [s for s in summary.get("skipped", []) if isinstance(s, Mapping)]
    if skipped:
        out += ["Skipped:", ""]
        out += [f"- {esc(s.get('target', ''))}: {esc(s.get('reason', ''))}" for s in skipped]
        out.append("")
    levels = summary.get("levels")
    if isinstance(levels, Mapping) and levels:
        out += ["| level | records |", "|---|---:|"]
        out += [f"| {cell(k)} | {_num(v)} |" for k, v in levels.items()]
        out.append("")
    signatures = [s for s in summary.get("signatures", []) if isinstance(s, Mapping)]
    if signatures:
        out += ["### Known error signatures seen", ""]
        out += ["| severity | domain | entry | lines | title |", "|---|---|---|---:|---|"]
        for s in signatures:
            out.append(
                f"| {cell(s.get('severity', ''))} | {cell(s.get('domain', ''))} "
                f"| {code_span(str(s.get('id', '')), in_table=True)} | {_num(s.get('count'))} "
                f"| {cell(s.get('title', ''))} |"
            )
        out.append("")
    return out if len(out) > 2 else []


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return cell("" if value is None else str(value))
    return f"{value:,}"

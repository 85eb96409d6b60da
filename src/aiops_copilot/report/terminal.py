"""The default ``aiops analyze`` output: one compact rich panel per incident, worst first.

Written for the on-call engineer at 3 a.m.: what broke, where, why we think so, what to do,
and the lines that prove it. Every piece of log-derived text goes through ``Text`` (never
markup), so a line containing ``[bold]`` or ``[/]`` prints literally, and every colour is
doubled by a word or a mark so the report survives ``NO_COLOR``, a pipe or a ticket.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import PurePath

from rich.console import Console, Group, JustifyMethod, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from aiops_copilot.llm.provenance import MODEL_MARK, provenance_line
from aiops_copilot.models import (
    AnalysisResult,
    HypothesisStatus,
    Incident,
    IncidentStatus,
    LineRef,
    Severity,
)
from aiops_copilot.report import memory as memory_report
from aiops_copilot.report import summary as summary_report
from aiops_copilot.report.sections import with_model_marks
from aiops_copilot.report.view import (
    STATUS_MARK,
    UNCLASSIFIED,
    classifier_scores,
    confidence_of,
    detection_line,
    domain_of,
    entry_ids_of,
    evidence_of,
    headline,
    history_line,
    hypotheses_of,
    minute_label,
    places_of,
    plural,
    printable,
    references_of,
    span_words,
    sparkline,
    status_words,
    timeline,
    title_of,
    top_reasons,
    when,
)

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
BORDER_STYLE: dict[Severity, str] = {
    Severity.CRITICAL: "red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
STATUS_STYLE: dict[HypothesisStatus, str] = {
    HypothesisStatus.SUPPORTED: "green",
    HypothesisStatus.POSSIBLE: "yellow",
    HypothesisStatus.RULED_OUT: "dim",
}

#: A multi-line record (a stack trace) shows this many of its lines before "… N more".
RECORD_LINES = 4
#: Evidence locations up to this long sit beside their line; longer ones go above it.
LOCATION_WIDTH = 32
_SUMMARY_KEYS = ("sources", "skipped", "totals", "levels", "top_templates", "signatures")


def render_terminal(
    result: AnalysisResult,
    console: Console,
    *,
    err: Console | None = None,
    evidence: int = 5,
    hypotheses: int = 3,
) -> None:
    """Print the report; with no incidents, say so and show what was read instead."""
    console.print(Text(headline(result), style="bold"), highlight=False)
    detection = detection_line(result.summary)
    if detection:
        console.print(Text(f"detection: {detection}", style="dim"), highlight=False)
    if not result.incidents:
        console.print(Text("No incidents found.", style="bold green"), highlight=False)
        if all(key in result.summary for key in _SUMMARY_KEYS):
            summary_report.render(result.summary, console, err or console)
        return
    for number, incident in enumerate(result.incidents, start=1):
        console.print(incident_panel(incident, number, evidence=evidence, hypotheses=hypotheses))


def render_text(result: AnalysisResult, *, width: int = 100, color: bool = False) -> str:
    """The terminal report as a string (``--output report.txt``, tests); plain unless ``color``."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=not color,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    render_terminal(result, console)
    return buffer.getvalue()


def incident_panel(
    incident: Incident, number: int, *, evidence: int = 5, hypotheses: int = 3
) -> Panel:
    """One incident: headline facts, cause, hypotheses, fix, evidence, and why grouped."""
    parts: list[RenderableType] = [_text(title_of(incident), "bold")]
    parts.append(_facts(incident))
    history = history_line(incident.history)
    if history is not None:
        recurred = (
            incident.history is not None and incident.history.status is IncidentStatus.RECURRED
        )
        parts.append(_labelled("History", history, style="bold yellow" if recurred else ""))
    chart = _timeline(incident)
    if chart is not None:
        parts.append(chart)
    diagnosis = incident.diagnosis
    if diagnosis is not None:
        by_model = diagnosis.llm
        label = f"Root cause {MODEL_MARK}" if by_model else "Root cause"
        parts.append(_labelled(label, diagnosis.root_cause))
        if by_model is not None:
            parts.append(_labelled("Model", provenance_line(by_model), style="magenta"))
            fixer = by_model.deterministic.get("root_cause")
            if fixer:
                parts.append(_labelled("Fixer's root cause", fixer, style="dim"))
        hyps = hypotheses_of(incident, hypotheses)
        if hyps:
            rows = _grid(justify="left")
            for hyp, model_wrote in with_model_marks(diagnosis, "hypotheses", hyps):
                cause = _text(hyp.cause)
                if model_wrote:
                    cause.append(f" {MODEL_MARK}", "magenta")
                if hyp.because:
                    cause.append(" — ")
                    cause.append(printable(hyp.because), "dim")
                mark = f"{STATUS_MARK[hyp.status]} {status_words(hyp.status)}"
                rows.add_row(Text(mark, STATUS_STYLE[hyp.status]), cause)
            hidden = len(hypotheses_of(incident)) - len(hyps)
            note = f" (top {len(hyps)}, {hidden} more)" if hidden else ""
            parts += [_heading(f"Hypotheses{note}")]
            parts.append(_indent(rows))
        if diagnosis.remediation:
            rows = _grid()
            steps = with_model_marks(diagnosis, "remediation", diagnosis.remediation)
            for i, (step, model_wrote) in enumerate(steps, start=1):
                mark = f" {MODEL_MARK}" if model_wrote else ""
                rows.add_row(Text(f"{i}."), _text(step + mark))
            parts += [_heading("Remediation"), _indent(rows)]
        if diagnosis.commands:
            rows = _grid()
            for command, model_wrote in with_model_marks(diagnosis, "commands", diagnosis.commands):
                line = _text(command, "cyan")
                if model_wrote:
                    line.append(f"  {MODEL_MARK}", "magenta")
                rows.add_row(Text("$"), line)
            parts += [_heading("Commands"), _indent(rows)]
        if diagnosis.second_opinion:
            parts.append(_labelled("Second opinion", diagnosis.second_opinion))
        if diagnosis.runbooks:
            runbooks = map(memory_report.passage_line, diagnosis.runbooks)
            parts += [_heading("Runbooks"), _bullets(runbooks)]
        if diagnosis.similar:
            similar = map(memory_report.similar_line, diagnosis.similar)
            parts += [_heading("Similar past incidents"), _bullets(similar)]
    else:
        parts.append(Text("No fixer diagnosis; the signals that raised it:", style="italic"))
    if incident.signals:
        parts.extend(_signals(incident, full=diagnosis is None))
    refs = evidence_of(incident, evidence)
    if refs:
        total = len(evidence_of(incident))
        more = f" (first {len(refs)} of {total})" if total > len(refs) else ""
        parts += [_heading(f"Evidence{more}"), _indent(_evidence(refs))]
    if incident.grouped_because:
        parts += [_heading("Grouped because"), _bullets(incident.grouped_because)]
    if incident.caused_by:
        parts.append(_labelled("Caused by", incident.caused_by))
    if incident.symptoms:
        parts.append(_labelled("Symptoms", ", ".join(incident.symptoms)))
    classifier = _classifier(incident)
    if classifier is not None:
        parts.append(classifier)
    refs_and_entries = _references(incident)
    if refs_and_entries is not None:
        parts.append(refs_and_entries)
    title = Text.assemble(
        (f" {incident.severity.value.upper()} ", SEVERITY_STYLE[incident.severity]),
        f" #{number} · {domain_of(incident) or UNCLASSIFIED}",
    )
    if diagnosis is not None:
        title.append(
            printable(f" · agent {diagnosis.agent} · confidence {confidence_of(incident):.0%}")
        )
        if diagnosis.llm is not None:
            title.append(printable(f" · refined by {diagnosis.llm.model}"))
    return Panel(
        Group(*parts),
        title=title,
        title_align="left",
        subtitle=_text(incident.id, "dim"),
        subtitle_align="right",
        border_style=BORDER_STYLE[incident.severity],
    )


def _facts(incident: Incident) -> Text:
    parts = [
        plural(incident.count, "record"),
        f"first {when(incident.first_seen)}",
        f"last {when(incident.last_seen)}",
    ]
    parts += [f"{label} {_short_list(values)}" for label, values in places_of(incident)]
    return _text(" · ".join(parts), "dim")


def _timeline(incident: Incident) -> Text | None:
    line = timeline(incident.minutes, max_bins=48)
    if line is None or len(line.counts) < 2:
        return None
    text = Text("timeline ", style="dim")
    text.append(sparkline(line), style=BORDER_STYLE[incident.severity])
    text.append(
        f" {minute_label(line.start)} + {span_words(line.end - line.start)}"
        f" ({line.width} min/bin, peak {line.peak:,})",
        style="dim",
    )
    return text


def signal_kinds(incident: Incident) -> str:
    """``signature 0.90 ×2, severity 0.80 ×2, burst 0.61``: each kind once, its best score and
    how many templates raised it, strongest first (one line beside a diagnosis, where a
    list of every template's signal repeats the same words)."""
    best: dict[str, tuple[float, int]] = {}
    for signal in incident.signals:
        score, count = best.get(signal.kind.value, (0.0, 0))
        best[signal.kind.value] = (max(score, signal.score), count + 1)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
    return ", ".join(
        f"{kind} {score:.2f}" + (f" ×{count}" if count > 1 else "")
        for kind, (score, count) in ranked
    )


def _signals(incident: Incident, *, full: bool) -> list[RenderableType]:
    """With a diagnosis, one line of signal kinds; without, each signal and its reason."""
    if not full:
        return [_labelled("Signals", signal_kinds(incident), style="dim")]
    rows = _grid(justify="left")
    for signal in incident.signals:
        reason = _text(signal.reason)
        extra = [f"template {signal.template_id}"]
        if signal.entry_id:
            extra.append(f"entry {signal.entry_id}")
        if signal.count:
            extra.append(plural(signal.count, "record"))
        reason.append(printable(f" ({', '.join(extra)})"), style="dim")
        rows.add_row(Text(f"{signal.kind.value} {signal.score:.2f}", style="bold"), reason)
    return [_heading("Signals"), _indent(rows)]


def _classifier(incident: Incident) -> Text | None:
    scores = classifier_scores(incident.classification)
    if not scores:
        return None
    text = Text("Classifier: ", style="bold dim")
    text.append(scores, style="dim")
    reasons = top_reasons(incident.classification)
    if reasons:
        text.append(printable(f" — {'; '.join(reasons)}"), style="dim")
    return text


def _references(incident: Incident) -> Text | None:
    entries = entry_ids_of(incident)
    references = references_of(incident)[:3]
    if not entries and not references:
        return None
    lines = []
    if entries:
        lines.append(f"Knowledge base: {', '.join(entries)}")
    if references:
        lines.append(f"References: {' · '.join(references)}")
    return _text("\n".join(lines), "dim")


def _evidence(refs: Sequence[LineRef]) -> RenderableType:
    """Locations beside their lines; a location too long for that goes above its line.

    Paths are cut to the file name when that is still unambiguous among these lines (the
    full paths are in the facts line above).
    """
    names = {ref.source: PurePath(ref.source).name or ref.source for ref in refs}
    if len(set(names.values())) < len(names):
        names = {source: source for source in names}
    locations = [ref.location.replace(ref.source, names[ref.source], 1) for ref in refs]
    if max(len(loc) for loc in locations) <= LOCATION_WIDTH:
        rows = _grid(justify="left")
        for location, ref in zip(locations, refs, strict=True):
            rows.add_row(_text(location, "cyan"), _record(ref.text))
        return rows
    stacked: list[RenderableType] = []
    for location, ref in zip(locations, refs, strict=True):
        stacked += [_text(location, "cyan"), Padding(_record(ref.text), (0, 0, 0, 2))]
    return Group(*stacked)


def _record(raw: str) -> Text:
    """A record's text; a stack trace shows its first lines and how many more there are."""
    lines = raw.splitlines() or [""]
    shown = lines[:RECORD_LINES]
    text = _text("\n".join(shown))
    text.tab_size = 2
    if len(lines) > len(shown):
        text.append(f"\n… {len(lines) - len(shown)} more lines", style="dim")
    return text


def _grid(*, justify: JustifyMethod = "right") -> Table:
    """Two columns, so a wrapped line hangs under its own text instead of the margin."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, justify=justify)
    grid.add_column(overflow="fold")
    return grid


def _bullets(lines: Iterable[str]) -> Padding:
    """Log-derived lines as an indented bullet list (runbooks, similar incidents, reasons)."""
    rows = _grid()
    for line in lines:
        rows.add_row(Text("•"), _text(line))
    return _indent(rows)


def _indent(renderable: RenderableType) -> Padding:
    """Rows sit two spaces in from the panel's headings."""
    return Padding(renderable, (0, 0, 0, 2))


def _text(value: str, style: str = "") -> Text:
    """Log-derived text: never markup, never a terminal escape sequence."""
    return Text(printable(value), style=style)


def _heading(label: str) -> Text:
    return Text(label, style="bold")


def _labelled(label: str, value: str, style: str = "") -> Text:
    text = Text(f"{label}: ", style="bold")
    text.append(printable(value), style=style)
    return text


def _short_list(values: Sequence[str], limit: int = 4) -> str:
    if len(values) <= limit:
        return ", ".join(values)
    return f"{', '.join(values[:limit])} +{len(values) - limit} more"

"""What the document reports (Markdown, HTML) show of an incident and of the reading, in order.

The two documents hold the same content in the same order and differ only in markup. The
walks below decide once which parts appear (a part only when it has something to say), in
which order, how many evidence lines, and which items a model wrote; each format supplies a
:class:`DocumentMarkup` that only turns those parts into its own text. Before this, each
renderer repeated the whole walk, and a rule changed in one could silently miss the other.

The terminal panel orders its parts differently (and prints rich renderables, not lines), so
it shares the smaller helpers here and in ``view`` rather than the walk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from aiops_copilot.llm.provenance import model_count
from aiops_copilot.models import (
    Diagnosis,
    Hypothesis,
    Incident,
    LineRef,
    RunbookPassage,
    Signal,
)
from aiops_copilot.report import memory as memory_report
from aiops_copilot.report.tables import (
    Table,
    classifier_table,
    levels_table,
    signatures_table,
    sources_table,
)
from aiops_copilot.report.view import entry_ids_of, evidence_of, references_of

#: Raw lines each document quotes per incident (the terminal, read on a screen, shows fewer).
EVIDENCE_LINES = 10

_T = TypeVar("_T")


def with_model_marks(
    diagnosis: Diagnosis, field: str, items: Sequence[_T]
) -> list[tuple[_T, bool]]:
    """Each item of ``field`` with whether a model wrote it.

    A model's items lead the fixer's list (``model_count`` says how many), so every report
    marks the same ones whatever markup it puts the mark in.
    """
    from_model = model_count(diagnosis, field)
    return [(item, index < from_model) for index, item in enumerate(items)]


class DocumentMarkup(Protocol):
    """One document format's markup for each part; the walks below pick the parts and data.

    Every method returns the part's lines, ready to join; none decides whether its part
    appears (the walk only calls it with something to show).
    """

    def root_cause(self, diagnosis: Diagnosis) -> list[str]: ...

    def hypotheses(self, hypotheses: Sequence[tuple[Hypothesis, bool]]) -> list[str]: ...

    def remediation(self, steps: Sequence[tuple[str, bool]]) -> list[str]: ...

    def commands(self, commands: Sequence[str], from_model: int) -> list[str]: ...

    def second_opinion(self, text: str) -> list[str]: ...

    def runbooks(self, passages: Sequence[RunbookPassage]) -> list[str]: ...

    def similar(self, lines: Sequence[str]) -> list[str]: ...

    def no_diagnosis(self) -> list[str]: ...

    def evidence(self, refs: Sequence[LineRef]) -> list[str]: ...

    def signals(self, signals: Sequence[Signal]) -> list[str]: ...

    def grouped_because(self, reasons: Sequence[str]) -> list[str]: ...

    def classifier(self, table: Table) -> list[str]: ...

    def references(self, entries: Sequence[str], links: Sequence[str]) -> list[str]: ...

    def sources(self, table: Table) -> list[str]: ...

    def totals(self, totals: Mapping[str, Any]) -> list[str]: ...

    def skipped(self, skipped: Sequence[Mapping[str, Any]]) -> list[str]: ...

    def levels(self, table: Table) -> list[str]: ...

    def signatures(self, table: Table) -> list[str]: ...


def incident_parts(incident: Incident, markup: DocumentMarkup) -> list[str]:
    """An incident's section below its heading, facts and chart: the diagnosis (or a note that
    there is none), then evidence, signals, why grouped, classifier and references."""
    out: list[str] = []
    d = incident.diagnosis
    if d is not None:
        out += _diagnosis_parts(d, markup)
    else:
        out += markup.no_diagnosis()
    refs = evidence_of(incident, EVIDENCE_LINES)
    if refs:
        out += markup.evidence(refs)
    if incident.signals:
        out += markup.signals(incident.signals)
    if incident.grouped_because:
        out += markup.grouped_because(incident.grouped_because)
    classifier = classifier_table(incident.classification)
    if classifier is not None:
        out += markup.classifier(classifier)
    entries = entry_ids_of(incident)
    links = references_of(incident)
    if entries or links:
        out += markup.references(entries, links)
    return out


def _diagnosis_parts(d: Diagnosis, markup: DocumentMarkup) -> list[str]:
    """Cause, hypotheses, fix, commands, second opinion, then what memory recalled."""
    out = list(markup.root_cause(d))
    if d.hypotheses:
        out += markup.hypotheses(with_model_marks(d, "hypotheses", d.hypotheses))
    if d.remediation:
        out += markup.remediation(with_model_marks(d, "remediation", d.remediation))
    if d.commands:
        out += markup.commands(d.commands, model_count(d, "commands"))
    if d.second_opinion:
        out += markup.second_opinion(d.second_opinion)
    if d.runbooks:
        out += markup.runbooks(d.runbooks)
    if d.similar:
        out += markup.similar([memory_report.similar_line(s) for s in d.similar])
    return out


def summary_parts(summary: Mapping[str, Any], markup: DocumentMarkup) -> list[str]:
    """What was read: sources, totals, skipped targets, levels and known signatures, each
    only when the summary has it (and it has the expected shape); ``[]`` for none of them."""
    out: list[str] = []
    if sources := _records(summary, "sources"):
        out += markup.sources(sources_table(sources))
    if totals := _mapping(summary, "totals"):
        out += markup.totals(totals)
    if skipped := _records(summary, "skipped"):
        out += markup.skipped(skipped)
    if levels := _mapping(summary, "levels"):
        out += markup.levels(levels_table(levels))
    if signatures := _records(summary, "signatures"):
        out += markup.signatures(signatures_table(signatures))
    return out


def _records(summary: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The summary's list under ``key``, only the entries shaped as records."""
    return [s for s in summary.get(key, []) if isinstance(s, Mapping)]


def _mapping(summary: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The summary's mapping under ``key``; empty when it is missing or not a mapping."""
    value = summary.get(key)
    return value if isinstance(value, Mapping) else {}

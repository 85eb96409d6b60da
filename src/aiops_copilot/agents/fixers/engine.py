"""The machinery every fixer shares: score the fit, weigh hypotheses, write the diagnosis.

A specialist differs from another in two things only: its **extractors** (Python: regexes that
turn evidence into facts such as ``port=16101`` or ``app_frame=PricingEngine.discountFor``) and
its **knowledge** (YAML: the problems and hypotheses of its domain, see
:mod:`aiops_copilot.knowledge.hypothesis_book`). Everything else — deciding which problem this is,
which hypotheses the evidence rules in or out, composing a root cause that names the facts,
choosing the evidence lines, the confidence — is the same reasoning for all six, so it lives
here once and every diagnosis reads alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from loguru import logger

from aiops_copilot.agents.base import FixerContext, MemoryLookup
from aiops_copilot.agents.fixers.evidence import Doc, Evidence
from aiops_copilot.agents.fixers.linking import merge_incidents, neighbours
from aiops_copilot.agents.fixers.prose import (
    capital,
    first_sentences,
    format_value,
    generic,
    is_set,
    plain_facts,
    render,
    sentence,
    unique,
)
from aiops_copilot.knowledge.hypothesis_book import (
    Applies,
    Check,
    DomainBook,
    HypothesisSpec,
    ProblemSpec,
    compile_pattern,
    condition_holds,
    shipped_book,
)
from aiops_copilot.knowledge.loader import KnowledgeBase, load_knowledge
from aiops_copilot.knowledge.needles import absent, needles
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Diagnosis, Domain, Hypothesis, HypothesisStatus, Incident, LineRef

MAX_EVIDENCE = 10
MAX_STEPS = 8
#: Own (fact-filled) steps and commands from which the runbook's generic ones are not added.
ENOUGH_STEPS = 3
ENOUGH_COMMANDS = 2
_EXAMPLE_LITERAL = re.compile(
    r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])|\bmyapp\b|\bexample\.(?:com|org)\b"
)


def fits_incident(command: str, text: str) -> bool:
    """False when a runbook command names an example address or service not in the incident."""
    return all(found.group(0) in text for found in _EXAMPLE_LITERAL.finditer(command))


MAX_COMMANDS = 8
MAX_REFERENCES = 6

_STATUS_ORDER = {
    HypothesisStatus.SUPPORTED: 0,
    HypothesisStatus.POSSIBLE: 1,
    HypothesisStatus.RULED_OUT: 2,
}


#: Runbook passages and similar past incidents a diagnosis cites from memory, at most.
MAX_RUNBOOKS = 3
MAX_SIMILAR = 3


def recall(incident: Incident, memory: MemoryLookup | None, diagnosis: Diagnosis) -> None:
    """Cite memory: the closest runbook passages and past incidents (the lookup applies its
    thresholds and never raises; a broken one is logged and ignored).

    The orchestrator calls it once per incident, after every incident is diagnosed, not each
    fixer: the query rests on the final diagnosis's title and root cause (a second opinion
    changes neither), and a memory that is still getting ready in a worker process is then
    waited for once, after the diagnoses, instead of in the middle of them."""
    if memory is None:
        return
    try:
        diagnosis.runbooks = memory.runbook_passages(incident, MAX_RUNBOOKS, diagnosis)
        diagnosis.similar = memory.similar_incidents(incident, MAX_SIMILAR, diagnosis)
    except Exception as exc:  # memory is a help, never a reason to lose the diagnosis
        logger.warning("memory lookup failed for {}: {}", incident.id, exc)


# -- the knowledge base for can_handle (which has no context) -----------------------------------


@cache
def _shipped_kb() -> KnowledgeBase:
    return load_knowledge()


# -- evaluated hypotheses ----------------------------------------------------------------------


@dataclass
class Weighed:
    """A hypothesis after looking at the evidence."""

    spec: HypothesisSpec
    status: HypothesisStatus
    score: float
    cause: str
    because: str
    ins: list[Check] = field(default_factory=list)
    outs: list[Check] = field(default_factory=list)


@dataclass
class Analysis:
    """One reading of the evidence: what the facts are, which problem, which hypotheses hold."""

    entries: list[Entry]
    ev: Evidence
    facts: dict[str, Any]
    problem: ProblemSpec | None
    weighed: list[Weighed]

    @property
    def supported(self) -> list[Weighed]:
        return [w for w in self.weighed if w.status == HypothesisStatus.SUPPORTED]

    @property
    def possible(self) -> list[Weighed]:
        return [w for w in self.weighed if w.status == HypothesisStatus.POSSIBLE]


class SpecialistFixer:
    """Base class of the six fixers: subclasses set the class attributes and ``extract``."""

    domain: ClassVar[Domain]
    name: ClassVar[str]
    #: KB ``software`` values and log ``formats`` this speciality knows.
    software: ClassVar[frozenset[str]] = frozenset()
    formats: ClassVar[frozenset[str]] = frozenset()
    #: Regexes that say "this is my kind of evidence" (also used to rank evidence lines).
    keywords: ClassVar[tuple[str, ...]] = ()
    #: Regexes that say another speciality owns the root cause (the fit is reduced).
    defer: ClassVar[tuple[str, ...]] = ()

    # -- to override ------------------------------------------------------------------------

    def extract(self, ev: Evidence) -> dict[str, Any]:
        """Facts from the evidence (values that are not set are dropped afterwards)."""
        return {}

    def book(self) -> DomainBook:
        return shipped_book(self.domain)

    # -- the Fixer protocol -----------------------------------------------------------------

    def can_handle(self, incident: Incident) -> float:
        """0..1 from this speciality's own evidence; never raises."""
        try:
            return round(self._fit(incident), 3)
        except Exception as exc:  # a fit score must never break routing
            logger.opt(exception=exc).debug("{}: can_handle failed", self.name)
            return 0.0

    def diagnose(self, incident: Incident, context: FixerContext) -> Diagnosis:
        """A diagnosis from the evidence and knowledge; falls back to a bare one, never raises."""
        try:
            return self._diagnose(incident, context)
        except Exception as exc:  # odd input must give a weak diagnosis, not a crash
            logger.opt(exception=exc).warning("{}: diagnosis failed, using a fallback", self.name)
            return self._fallback(incident, context)

    # -- fit ------------------------------------------------------------------------------------

    def _fit(self, incident: Incident) -> float:
        kb = _shipped_kb()
        entries = [e for e in (kb.get(i) for i in incident.entry_ids) if e is not None]
        ev = Evidence(incident, entries)
        score = 0.0
        own = [e for e in entries if e.domain == self.domain]
        if own:
            score += 0.45 if entries[0].domain == self.domain else 0.25
        if self.keywords:
            pattern = compile_pattern("|".join(f"(?:{k})" for k in self.keywords))
            share = max(_share(pattern, ev.templates), _share(pattern, ev.lines))
            if share:
                score += 0.15 + 0.3 * min(1.0, 2.0 * share)
        known_format = any(f in self.formats for f in incident.formats)
        if known_format or any(e.software in self.software for e in entries):
            score += 0.1
        if self.defer and any(ev.has(p) for p in self.defer):
            score *= 0.6
        classification = incident.classification
        if classification is not None:
            hint = float(classification.scores.get(self.domain, 0.0))
            score = 0.8 * score + 0.2 * max(0.0, min(1.0, hint))
        return max(0.0, min(1.0, score))

    # -- diagnosis ------------------------------------------------------------------------------

    def _entries(self, incident: Incident, kb: KnowledgeBase) -> list[Entry]:
        entries = [e for e in (kb.get(i) for i in incident.entry_ids) if e is not None]
        # Own domain first, keeping the pipeline's order (most severe first) within each part.
        return [e for e in entries if e.domain == self.domain] + [
            e for e in entries if e.domain != self.domain
        ]

    def _facts(self, ev: Evidence) -> dict[str, Any]:
        raw = self.extract(ev)
        return {k: v for k, v in raw.items() if is_set(v)}

    def _analyse(
        self, incident: Incident, kb: KnowledgeBase, problem: ProblemSpec | None = None
    ) -> Analysis:
        """Facts, problem and weighed hypotheses for one view of the evidence."""
        entries = self._entries(incident, kb)
        ev = Evidence(incident, entries)
        facts = self._facts(ev)
        book = self.book()
        if problem is None:
            problem = self._problem(book.problems, ev, facts, [e.id for e in entries])
        if problem is not None:
            facts["problem"] = problem.id
        weighed = self._weigh(book.hypotheses, ev, facts, problem)
        return Analysis(entries, ev, facts, problem, weighed)

    def _diagnose(self, incident: Incident, context: FixerContext) -> Diagnosis:
        kb = context.kb
        cause = (context.incidents or {}).get(incident.caused_by or "")
        view = merge_incidents(incident, [cause]) if cause is not None else incident
        analysis = self._analyse(view, kb)
        if analysis.problem is None or not analysis.supported:
            # The explanation may sit in a neighbouring incident the grouping did not link
            # (Redis MISCONF here, "Permission denied" on its RDB file there): look next door.
            nearby = neighbours(incident, context, exclude={cause.id} if cause else set())
            if nearby:
                wider = self._analyse(merge_incidents(view, nearby), kb, analysis.problem)
                if (analysis.problem is None and wider.problem is not None) or (
                    wider.supported and not analysis.supported
                ):
                    wider.facts["linked_incidents"] = [i.id for i in nearby]
                    analysis = wider
        if cause is not None:
            analysis.facts["caused_by"] = cause.id
        entries, ev, facts, problem = (
            analysis.entries,
            analysis.ev,
            analysis.facts,
            analysis.problem,
        )
        weighed, supported, possible = analysis.weighed, analysis.supported, analysis.possible
        lead = supported[0] if supported else (possible[0] if possible else None)
        entry = self._primary_entry(entries, lead, problem)

        title = self._title(problem, entry, incident, facts)
        root_cause = self._root_cause(problem, entry, supported, possible, facts, ev)
        confidence = self._confidence(entries, problem, supported, possible, facts)
        chosen = [w for w in (supported[:2] or ([lead] if lead else []))]
        runbook = [entry] if entry is not None else []
        # The hypotheses' own steps and commands are filled with this incident's facts; the
        # runbook's generic ones only fill in when those are few (they would repeat them), and
        # a runbook command naming an example address or service this incident does not have
        # is left out rather than printed for someone to paste.
        own_steps = unique(
            [render(s.text, facts) for w in chosen for s in w.spec.remediation if s.applies(facts)]
        )
        runbook_steps = [s for e in runbook for s in e.remediation]
        remediation = unique(own_steps + (runbook_steps if len(own_steps) < ENOUGH_STEPS else []))[
            :MAX_STEPS
        ]
        own_commands = unique(
            [render(c.text, facts) for w in chosen for c in w.spec.commands if c.applies(facts)]
        )
        text = incident.text
        runbook_commands = [c for e in runbook for c in e.commands if fits_incident(c, text)]
        commands = unique(
            own_commands + (runbook_commands if len(own_commands) < ENOUGH_COMMANDS else [])
        )[:MAX_COMMANDS]
        references = unique([r for e in entries for r in e.references])[:MAX_REFERENCES]
        severity = problem.severity if problem is not None else None
        severity_reason = (
            render(problem.headline, facts, placeholder=False)
            if problem is not None and severity is not None
            else None
        )
        if (
            problem is not None
            and problem.escalate_to is not None
            and problem.escalate_when
            and all(condition_holds(c, facts) for c in problem.escalate_when)
            and (severity is None or problem.escalate_to.rank > severity.rank)
        ):
            severity = problem.escalate_to
            severity_reason = render(
                problem.escalate_says or problem.headline, facts, placeholder=False
            )
        diagnosis = Diagnosis(
            agent=self.name,
            title=title,
            root_cause=root_cause,
            confidence=confidence,
            hypotheses=[
                Hypothesis(
                    cause=sentence(w.cause),
                    status=w.status,
                    because=w.because,
                    score=round(w.score, 3),
                    checks=[render(c, facts) for c in w.spec.checks],
                )
                for w in weighed
            ],
            remediation=remediation,
            commands=commands,
            references=references,
            evidence=self._evidence(ev, lead, problem),
            facts=plain_facts(facts),
            entry_ids=list(incident.entry_ids),
            severity=severity,
            severity_reason=severity_reason,
        )
        return diagnosis

    def _fallback(self, incident: Incident, context: FixerContext) -> Diagnosis:
        entry = None
        try:
            kb = context.kb
            entry = next((kb.get(i) for i in incident.entry_ids if kb.get(i) is not None), None)
        except Exception:  # the context itself may be what is odd
            entry = None
        title = entry.title if entry is not None else (str(incident.title or "") or "Incident")
        root = (
            entry.root_cause
            if entry is not None
            else "No specific cause could be established from the evidence; read the lines cited."
        )
        lines = [ref for ref in getattr(incident, "lines", []) if isinstance(ref, LineRef)]
        return Diagnosis(
            agent=self.name,
            title=title,
            root_cause=root,
            confidence=0.1,
            remediation=list(entry.remediation) if entry is not None else [],
            commands=list(entry.commands) if entry is not None else [],
            references=list(entry.references) if entry is not None else [],
            evidence=lines[:MAX_EVIDENCE],
            entry_ids=[str(i) for i in getattr(incident, "entry_ids", [])],
        )

    # -- reasoning steps ------------------------------------------------------------------------

    def _applies(
        self, applies: Applies, ev: Evidence, facts: dict[str, Any], problem: str | None
    ) -> bool:
        if applies.empty:
            return True
        ids = set(ev.incident.entry_ids)
        return (
            any(e in ids for e in applies.entries)
            or any(t.lower() in ev.tags for t in applies.tags)
            or any(ev.has(p) for p in applies.patterns)
            or any(condition_holds(c, facts) for c in applies.facts)
            or (problem is not None and problem in applies.problems)
        )

    def _problem(
        self,
        problems: Sequence[ProblemSpec],
        ev: Evidence,
        facts: dict[str, Any],
        entry_ids: Sequence[str] = (),
    ) -> ProblemSpec | None:
        """The first problem that holds, in the book's order, except that a problem naming
        signatures of which the incident hit none comes last (a "no route to host" incident
        that also logged timeouts is about the route, not an upstream timeout)."""
        hit = set(entry_ids)

        def foreign(spec: ProblemSpec) -> bool:
            return bool(spec.when.entries) and bool(hit) and not hit & set(spec.when.entries)

        ordered = sorted(problems, key=foreign)
        for spec in ordered:
            if all(condition_holds(c, facts) for c in spec.requires) and self._applies(
                spec.when, ev, facts, None
            ):
                return spec
        return None

    def _holds(self, check: Check, ev: Evidence, facts: dict[str, Any]) -> bool:
        if check.fact is not None:
            return condition_holds(check.fact, facts)
        regex = check.regex
        return regex is not None and ev.count(regex) >= check.min

    def _describe(self, check: Check, ev: Evidence, facts: dict[str, Any]) -> str:
        if check.says:
            return render(check.says, facts, placeholder=False)
        if check.fact is not None:
            name = check.fact.lstrip("!").split("=")[0].split(">")[0].split("<")[0]
            value = facts.get(name)
            return f"{name} = {format_value(value)}" if is_set(value) else check.fact
        regex = check.regex
        if regex is None:
            return ""
        for match, doc in ev.matches(regex):
            start = max(0, match.start() - 30)
            snippet = " ".join(doc.text[start : match.end() + 50].split())
            where = f" at {doc.ref.location}" if doc.ref is not None else ""
            count = ev.count(regex)
            times = f", {count} lines" if count > 1 else ""
            return f"“{snippet[:140]}”{where}{times}"
        return check.pattern or ""

    def _weigh(
        self,
        specs: Iterable[HypothesisSpec],
        ev: Evidence,
        facts: dict[str, Any],
        problem: ProblemSpec | None,
    ) -> list[Weighed]:
        out: list[Weighed] = []
        pid = problem.id if problem is not None else None
        for spec in specs:
            if not all(condition_holds(c, facts) for c in spec.requires):
                continue
            if not self._applies(spec.applies_to, ev, facts, pid):
                continue
            ins = [c for c in spec.rule_in if self._holds(c, ev, facts)]
            outs = [c for c in spec.rule_out if self._holds(c, ev, facts)]
            said_in = "; ".join(d for d in (self._describe(c, ev, facts) for c in ins) if d)
            said_out = "; ".join(d for d in (self._describe(c, ev, facts) for c in outs) if d)
            if outs and len(outs) >= len(ins):
                status = HypothesisStatus.RULED_OUT
                score = spec.prior * 0.25
                because = f"Ruled out by {said_out}."
                if ins:
                    because += f" (Although {said_in}.)"
            elif ins:
                status = HypothesisStatus.SUPPORTED
                score = min(0.99, spec.prior + 0.3 + 0.1 * min(len(ins) - 1, 3) - 0.1 * len(outs))
                because = f"Supported by {said_in}."
                if outs:
                    because += f" Against it: {said_out}."
            else:
                status = HypothesisStatus.POSSIBLE
                score = spec.prior
                because = (
                    "Fits this kind of failure, but nothing in the evidence confirms or "
                    "contradicts it."
                )
            out.append(
                Weighed(
                    spec=spec,
                    status=status,
                    score=score,
                    cause=render(spec.cause, facts, placeholder=False),
                    because=because,
                    ins=ins,
                    outs=outs,
                )
            )
        out.sort(key=lambda w: (_STATUS_ORDER[w.status], -w.score, w.spec.id))
        return out

    def _primary_entry(
        self, entries: Sequence[Entry], lead: Weighed | None, problem: ProblemSpec | None
    ) -> Entry | None:
        """The KB entry the diagnosis leans on: the lead hypothesis's, the problem's, or ours."""
        for wanted in (
            lead.spec.applies_to.entries if lead is not None else (),
            problem.when.entries if problem is not None else (),
        ):
            for entry in entries:
                if entry.id in wanted:
                    return entry
        own = [e for e in entries if e.domain == self.domain]
        return own[0] if own else (entries[0] if entries else None)

    def _title(
        self,
        problem: ProblemSpec | None,
        entry: Entry | None,
        incident: Incident,
        facts: dict[str, Any],
    ) -> str:
        if problem is not None:
            return capital(render(problem.title, facts, placeholder=False))
        if entry is not None:
            return entry.title
        return capital(f"{self.domain.value} incident: {incident.title}".strip(": "))

    def _root_cause(
        self,
        problem: ProblemSpec | None,
        entry: Entry | None,
        supported: Sequence[Weighed],
        possible: Sequence[Weighed],
        facts: dict[str, Any],
        ev: Evidence,
    ) -> str:
        parts: list[str] = []
        if problem is not None:
            parts.append(sentence(render(problem.headline, facts, placeholder=False)))
        elif entry is not None:
            parts.append(sentence(entry.title))
        if supported:
            parts.append(sentence("Cause: " + supported[0].cause))
            if len(supported) > 1 and supported[1].score >= 0.6 and not supported[1].outs:
                parts.append(sentence("Also: " + supported[1].cause))
        elif possible:
            parts.append(
                sentence("Most likely cause (not confirmed by the logs): " + possible[0].cause)
            )
        elif entry is not None:
            parts.append(first_sentences(entry.root_cause, 2))
        if not parts:
            parts.append(generic(ev))
        linked = facts.get("linked_incidents")
        if linked:
            parts.append(f"(Read together with {format_value(linked)}, raised at the same time.)")
        return " ".join(parts)

    def _confidence(
        self,
        entries: Sequence[Entry],
        problem: ProblemSpec | None,
        supported: Sequence[Weighed],
        possible: Sequence[Weighed],
        facts: dict[str, Any],
    ) -> float:
        value = 0.2
        if any(e.domain == self.domain for e in entries):
            value += 0.2
        elif entries:
            value += 0.05
        if problem is not None:
            value += 0.1
        if supported:
            value += 0.25 + 0.05 * min(len(supported[0].ins) - 1, 2)
        elif possible:
            value += 0.05
        if len(facts) >= 4:
            value += 0.05
        return round(max(0.05, min(0.95, value)), 2)

    def _evidence(
        self, ev: Evidence, lead: Weighed | None, problem: ProblemSpec | None
    ) -> list[LineRef]:
        """The most telling lines first: what rules the lead hypothesis in, what names the
        problem, then this speciality's keywords — one line of each kind before repeats."""
        patterns: list[re.Pattern[str]] = []
        if lead is not None:
            patterns += [c.regex for c in lead.ins if c.regex is not None]
        if problem is not None:
            patterns += [compile_pattern(p) for p in problem.when.patterns]
        patterns += [compile_pattern(k) for k in self.keywords]
        ranked: dict[LineRef, int] = {}
        for rank, regex in enumerate(patterns):
            for ref in ev.refs(regex):
                ranked.setdefault(ref, rank)
        for doc in ev.lines:
            if doc.ref is not None:
                ranked.setdefault(doc.ref, len(patterns))
        ordered = sorted(ranked, key=lambda ref: ranked[ref])
        chosen: list[LineRef] = []
        shapes: set[str] = set()
        for ref in ordered:  # one line of each shape first ...
            shape = _shape(ref.text)
            if shape not in shapes:
                shapes.add(shape)
                chosen.append(ref)
        for ref in ordered:  # ... then repeats, still most telling first
            if ref not in chosen:
                chosen.append(ref)
        return chosen[:MAX_EVIDENCE]


_DIGITS = re.compile(r"\d+")
_TIMESTAMP = re.compile(r"^\S*\d{2}[:/-]\d{2}\S*\s+(?:\S*\d{2}:\d{2}\S*\s+)?")


def _shape(text: str) -> str:
    """A line's kind: without its timestamp, numbers masked, first words only."""
    return _DIGITS.sub("0", _TIMESTAMP.sub("", text.strip()))[:60]


def _share(pattern: re.Pattern[str], docs: Sequence[Doc]) -> float:
    """The weighted share of documents the pattern finds something in."""
    total = sum(d.weight for d in docs)
    if not total:
        return 0.0
    found = needles(pattern)
    return (
        sum(d.weight for d in docs if not absent(found, d.folded) and pattern.search(d.text))
        / total
    )

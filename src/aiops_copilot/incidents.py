"""Grouping signals into incidents: fingerprint, time window, cause and symptoms.

Templates that raised signals are grouped in three steps, each leaving a sentence in the
incident's ``grouped_because`` so a person can see why lines ended up together:

1. by fingerprint: the known signature (or, without one, the template) and the service;
2. one signature on several services at the same time is one problem, not several;
3. errors with no known signature that happen inside a known problem's time window are its
   symptoms and join it (an upstream 502 storm joins the "connection refused" that causes it);
   two known problems at the same time are linked, the likelier cause marked (a full disk
   before the database errors it causes).

Ranking puts the worst first: severity (a cause carries its symptoms' severity), then score.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.knowledge.loader import KnowledgeBase
from aiops_copilot.learning import LearnedRules
from aiops_copilot.models import (
    Domain,
    Incident,
    Level,
    LineRef,
    Severity,
    Signal,
    SignalKind,
    TemplateRef,
)

#: Signal strength below which a template is only an observation, never an incident.
ALERT_THRESHOLD = 0.35
_RETRYING = re.compile(r"\bretr(?:y|ying|ies)\b|\battempt \d+", re.IGNORECASE)
#: Warnings with a known signature become a medium incident after this many.
WARNING_PERSISTS = 20
#: Most evidence lines kept on an incident.
MAX_LINES = 30
#: Which domain's problem is the likelier cause when two known problems coincide: resources fail
#: first, then the stores built on them, then the network paths and the services that use them.
CAUSE_PRECEDENCE = {
    Domain.INFRASTRUCTURE: 0,
    Domain.DATABASE: 1,
    Domain.NETWORK: 2,
    Domain.INTEGRATION: 3,
    Domain.APPLICATION: 4,
    Domain.SECURITY: 9,
}


@dataclass
class TemplateFinding:
    """One template and the signals it raised, with their combined strength and severity."""

    stats: TemplateStats
    signals: list[Signal]
    score: float
    severity: Severity
    entry_id: str | None
    noise: str | None = None

    @property
    def alerting(self) -> bool:
        return self.noise is None and self.score >= ALERT_THRESHOLD and self.severity != "info"


def assess(stats: TemplateStats, signals: list[Signal], noise: str | None) -> TemplateFinding:
    """Combine one template's signals: the strongest counts fully, the others add a little.

    A known signature decides the severity (knowledge beats heuristics, in both directions: a
    FATAL line the knowledge base knows to be a harmless register dump stays info). Statistical
    signals alone (new, bursting, broken sessions) cannot make more than a medium incident.
    """
    ordered = sorted(signals, key=lambda s: -s.score)
    score = ordered[0].score + 0.15 * sum(s.score for s in ordered[1:]) if ordered else 0.0
    signature = next((s for s in ordered if s.kind is SignalKind.SIGNATURE), None)
    if signature is not None:
        severity = signature.severity
        if severity is Severity.INFO:
            score = min(score, signature.score)
        elif stats.max_level <= Level.WARNING and _RETRYING.search(stats.example):
            # The software itself only warned (a retry that may well have worked): a known
            # signature is then an advisory unless it kept happening.
            cap = Severity.MEDIUM if stats.count >= WARNING_PERSISTS else Severity.LOW
            if severity.rank > cap.rank:
                severity = cap
                score = min(score, 0.3 if cap is Severity.LOW else score)
    else:
        severity = max((s.severity for s in ordered), key=lambda s: s.rank, default=Severity.INFO)
        if not any(s.kind is SignalKind.SEVERITY for s in ordered):
            severity = Severity.from_rank(min(severity.rank, Severity.MEDIUM.rank))
    return TemplateFinding(
        stats=stats,
        signals=ordered,
        score=min(1.0, round(score, 3)),
        severity=severity,
        entry_id=signature.entry_id if signature else None,
        noise=noise,
    )


@dataclass
class _Group:
    findings: list[TemplateFinding]
    key: str
    service: str
    reasons: list[str] = field(default_factory=list)
    domain: Domain | None = None
    symptoms: list[_Group] = field(default_factory=list)
    cause: _Group | None = None
    #: A person split this incident (aiops feedback --split): it absorbs nothing, joins nothing.
    frozen: bool = False

    @property
    def fingerprint(self) -> str:
        return f"{self.key}|svc:{self.service}"

    @property
    def first(self) -> datetime | None:
        times = [f.stats.first_seen for f in self.findings if f.stats.first_seen]
        return min(times) if times else None

    @property
    def last(self) -> datetime | None:
        times = [f.stats.last_seen for f in self.findings if f.stats.last_seen]
        return max(times) if times else None

    @property
    def severity(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    @property
    def score(self) -> float:
        return max(f.score for f in self.findings)

    @property
    def entry_ids(self) -> list[str]:
        return list(dict.fromkeys(f.entry_id for f in self.findings if f.entry_id))

    @property
    def sources(self) -> set[str]:
        return {src for f in self.findings for src in f.stats.sources}

    @property
    def addresses(self) -> set[str]:
        """The IP addresses named on the group's lines (an attacker seen in two logs)."""
        return {key for f in self.findings for key in f.stats.entities if key.startswith("ip:")}

    @property
    def minute_list(self) -> list[int]:
        """The epoch minutes in which the group's lines occurred, sorted."""
        return sorted({m for f in self.findings for m in f.stats.minutes})


def _service_of(stats: TemplateStats) -> str:
    if stats.services:
        return stats.services.most_common(1)[0][0]
    if stats.sources:
        return PurePath(stats.sources.most_common(1)[0][0]).name
    return "-"


def _overlap(a: _Group, b: _Group, window: timedelta) -> bool:
    """True when lines of the two groups happened within ``window`` of each other (or, lacking
    times, when they share a source file). Compared minute by minute, not by first-to-last
    span: a warning seen in June and December does not overlap everything in between."""
    minutes_a, minutes_b = a.minute_list, b.minute_list
    if not minutes_a or not minutes_b:
        return bool(a.sources & b.sources)
    reach = max(1, int(window.total_seconds() // 60))
    if len(minutes_a) > len(minutes_b):
        minutes_a, minutes_b = minutes_b, minutes_a
    for minute in minutes_a:
        at = bisect_left(minutes_b, minute - reach)
        if at < len(minutes_b) and minutes_b[at] <= minute + reach:
            return True
    return False


def _domain_of(kb: KnowledgeBase, group: _Group) -> Domain | None:
    for entry_id in group.entry_ids:
        entry = kb.get(entry_id)
        if entry is not None:
            return entry.domain
    return None


def group_findings(
    findings: Sequence[TemplateFinding],
    kb: KnowledgeBase,
    *,
    window: timedelta,
    learned: LearnedRules | None = None,
) -> list[Incident]:
    """Incidents from the alerting findings, ranked worst first; rules learned from feedback
    keep split incidents apart and merge the ones people merged."""
    by_key: dict[tuple[str, str], _Group] = {}
    for finding in findings:
        if not finding.alerting:
            continue
        key = f"sig:{finding.entry_id}" if finding.entry_id else f"tpl:{finding.stats.template_id}"
        service = _service_of(finding.stats)
        group = by_key.get((key, service))
        if group is None:
            group = _Group([], key=key, service=service)
            group.reasons.append(
                f"same known signature {finding.entry_id} on {service}"
                if finding.entry_id
                else f"same template on {service}"
            )
            by_key[(key, service)] = group
        group.findings.append(finding)
    groups = list(by_key.values())
    for group in groups:
        group.domain = _domain_of(kb, group)
        split = learned.splits.get(group.fingerprint) if learned else None
        if split is not None:
            group.frozen = True
            group.reasons.append(split.why)
    groups = _merge_same_signature(groups, window)
    groups = _merge_related_known(groups, window)
    groups = _absorb_symptoms(groups, window)
    groups = _merge_unknown_neighbours(groups, window)
    if learned and learned.merges:
        groups = _merge_taught(groups, learned)
    _link_known(groups, window)
    incidents = {id(g): _to_incident(g) for g in groups}
    for group in groups:
        incident = incidents[id(group)]
        if group.cause is not None:
            incident.caused_by = incidents[id(group.cause)].id
        incident.symptoms = [incidents[id(s)].id for s in group.symptoms]

    def chain(group: _Group) -> tuple[Severity, _Group]:
        """The worst severity among a group and everything downstream of it (links form no
        cycles: a cause always precedes its symptom in CAUSE_PRECEDENCE)."""
        worst, source = incidents[id(group)].severity, group
        for symptom in group.symptoms:
            severity, origin = chain(symptom)
            if severity.rank > worst.rank:
                worst, source = severity, origin
        return worst, source

    raised = {id(g): chain(g) for g in groups}
    for group in groups:
        incident = incidents[id(group)]
        worse, origin = raised[id(group)]
        if worse.rank > incident.severity.rank:
            incident.grouped_because.append(
                f"severity raised to {worse.value} by its symptom {incidents[id(origin)].id}"
            )
            incident.severity = worse
    return rank(list(incidents.values()))


def rank(incidents: list[Incident]) -> list[Incident]:
    """Worst first: severity, then causes before their symptoms, then score and count."""
    return sorted(
        incidents,
        key=lambda i: (-i.severity.rank, i.caused_by is not None, -i.score, -i.count, i.id),
    )


def _merge_into_earlier(
    groups: list[_Group],
    joins: Callable[[_Group, _Group], bool],
    reason: Callable[[_Group, _Group], str],
) -> list[_Group]:
    """Each group joins the first earlier kept group it ``joins`` (kept, group), else is kept.

    One loop for every "these belong together" rule, so the rules differ only in their test and
    their sentence. A frozen group (split by a person) neither absorbs nor joins. ``reason`` is
    asked *before* the findings move: what the two groups share (an address, say) must be read
    while they are still two.
    """
    kept: list[_Group] = []
    for group in groups:
        target = (
            None
            if group.frozen
            else next((k for k in kept if not k.frozen and joins(k, group)), None)
        )
        if target is None:
            kept.append(group)
            continue
        sentence = reason(target, group)
        target.findings += group.findings
        target.reasons.append(sentence)
    return kept


def _merge_same_signature(groups: list[_Group], window: timedelta) -> list[_Group]:
    """One known signature on several services at the same time is one problem."""
    return _merge_into_earlier(
        groups,
        lambda k, group: (
            group.key.startswith("sig:") and k.key == group.key and _overlap(k, group, window)
        ),
        lambda target, group: (
            f"the same signature on {group.service} within {_minutes(window)} of {target.service}"
        ),
    )


def _same_band(a: Severity, b: Severity) -> bool:
    """Both serious (medium or worse) or both minor: a minor advisory never rides along with,
    or drags down, a real failure."""
    return (a.rank >= Severity.MEDIUM.rank) == (b.rank >= Severity.MEDIUM.rank)


def _merge_related_known(groups: list[_Group], window: timedelta) -> list[_Group]:
    """Several known signatures of one domain from one service at the same time are one
    problem seen from several angles (sshd's "Failed password", "Invalid user" and PAM's
    "authentication failure" during one brute force)."""

    def joins(k: _Group, group: _Group) -> bool:
        return (
            k.domain is not None
            and k.domain == group.domain
            and (
                # the same attacker or peer in two logs belongs together whatever the
                # severity; otherwise an advisory never rides along with a failure
                bool(k.addresses & group.addresses)
                or (
                    _same_band(k.severity, group.severity)
                    and (k.service == group.service or bool(k.sources & group.sources))
                )
            )
            and _overlap(k, group, window)
        )

    def reason(target: _Group, group: _Group) -> str:
        shared = target.addresses & group.addresses
        return (
            f"related {group.domain.value if group.domain else ''} signature "
            f"{', '.join(group.entry_ids)} from {group.service} in the same window"
            + (f", naming the same address {sorted(shared)[0][3:]}" if shared else "")
        )

    return _merge_into_earlier(groups, joins, reason)


def _absorb_symptoms(groups: list[_Group], window: timedelta) -> list[_Group]:
    """Unknown errors inside a known problem's window join it as its symptoms."""
    known = [g for g in groups if g.entry_ids and g.severity.rank >= Severity.LOW.rank]
    if not known:
        return groups
    kept: list[_Group] = []
    for group in groups:
        if group.entry_ids or group.frozen:
            kept.append(group)
            continue
        candidates = [
            k
            for k in known
            if not k.frozen
            and _overlap(k, group, window)
            and group.severity.rank <= k.severity.rank
        ]
        if not candidates:
            kept.append(group)
            continue
        same_source = [k for k in candidates if k.sources & group.sources]
        pool = same_source or candidates
        cause = min(
            pool,
            key=lambda k: (
                CAUSE_PRECEDENCE.get(k.domain, 5) if k.domain else 5,
                -k.severity.rank,
                k.first or datetime.max,
            ),
        )
        cause.findings += group.findings
        where = "in the same file" if same_source else "on the same system"
        template = group.findings[0].stats.template
        cause.reasons.append(
            f"symptom: {shorten(template)!r} ({sum(f.stats.count for f in group.findings):,}x) "
            f"happened {where} within {_minutes(window)} of this known problem"
        )
    return kept


def _merge_unknown_neighbours(groups: list[_Group], window: timedelta) -> list[_Group]:
    """Errors with no known signature in one file close in time are one problem."""
    return _merge_into_earlier(
        groups,
        lambda k, group: (
            not group.entry_ids
            and not k.entry_ids
            and bool(k.sources & group.sources)
            and k.service == group.service
            and _overlap(k, group, window)
        ),
        lambda _target, group: (
            f"{shorten(group.findings[0].stats.template)!r} happened in the same file within "
            f"{_minutes(window)}"
        ),
    )


def _merge_taught(groups: list[_Group], learned: LearnedRules) -> list[_Group]:
    """Incidents a person merged (aiops feedback --merge) join their target when both occur."""
    by_fingerprint = {g.fingerprint: g for g in groups}
    kept: list[_Group] = []
    for group in groups:
        rule = learned.merges.get(group.fingerprint)
        target = by_fingerprint.get(rule.value) if rule is not None else None
        if rule is None or target is None or target is group:
            kept.append(group)
            continue
        target.findings += group.findings
        target.reasons.append(f"{group.fingerprint} joined: {rule.why}")
    return kept


def _link_known(groups: list[_Group], window: timedelta) -> None:
    """Two known problems at the same time: the likelier cause gets the other as a symptom."""
    known = [g for g in groups if g.domain is not None and g.domain is not Domain.SECURITY]
    for a in known:
        for b in known:
            if a is b or b.cause is not None or a.cause is b or not _overlap(a, b, window):
                continue
            pa, pb = CAUSE_PRECEDENCE[a.domain], CAUSE_PRECEDENCE[b.domain]  # type: ignore[index]
            a_first = a.first or datetime.max
            b_first = b.first or datetime.max
            if (pa, a_first) < (pb, b_first) and pa < pb:
                b.cause = a
                a.symptoms.append(b)


def _to_incident(group: _Group) -> Incident:
    findings = sorted(group.findings, key=lambda f: (-f.severity.rank, -f.score))
    signals = [s for f in findings for s in f.signals]
    fingerprint = group.fingerprint
    digest = hashlib.sha1(fingerprint.encode("utf-8")).hexdigest()[:10]
    minutes: Counter[int] = Counter()
    entities: Counter[str] = Counter()
    hosts: Counter[str] = Counter()
    services: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    for f in findings:
        minutes.update(f.stats.minutes)
        entities.update(f.stats.entities)
        hosts.update(f.stats.hosts)
        services.update(f.stats.services)
        sources.update(f.stats.sources)
        formats.update(f.stats.formats)
    first = [f.stats.first_seen for f in findings if f.stats.first_seen]
    last = [f.stats.last_seen for f in findings if f.stats.last_seen]
    top = findings[0]
    return Incident(
        id=f"INC-{digest}",
        fingerprint=fingerprint,
        title=_title(top),
        severity=group.severity,
        score=group.score,
        signals=signals,
        templates=[
            TemplateRef(f.stats.template_id, f.stats.template, f.stats.count, f.stats.example)
            for f in findings
        ],
        count=sum(f.stats.count for f in findings),
        first_seen=min(first) if first else None,
        last_seen=max(last) if last else None,
        hosts=[h for h, _ in hosts.most_common() if h != "(other)"],
        services=[s for s, _ in services.most_common() if s != "(other)"],
        sources=[s for s, _ in sources.most_common() if s != "(other)"],
        formats=[s for s, _ in formats.most_common() if s != "(other)"],
        lines=_evidence_lines(findings),
        entities=dict(entities.most_common(50)),
        entry_ids=group.entry_ids,
        grouped_because=list(group.reasons),
        minutes=dict(sorted(minutes.items())),
    )


def _evidence_lines(findings: Iterable[TemplateFinding]) -> list[LineRef]:
    """Lines of the strongest templates first, each template contributing in turn."""
    per_template = [list(f.stats.lines) for f in findings]
    chosen: list[LineRef] = []
    seen: set[tuple[str, int]] = set()
    depth = 0
    while len(chosen) < MAX_LINES and any(depth < len(lines) for lines in per_template):
        for lines in per_template:
            if depth < len(lines) and len(chosen) < MAX_LINES:
                ref = lines[depth]
                if (ref.source, ref.line_no) not in seen:
                    seen.add((ref.source, ref.line_no))
                    chosen.append(ref)
        depth += 1
    return chosen


def _title(finding: TemplateFinding) -> str:
    for signal in finding.signals:
        if signal.kind is SignalKind.SIGNATURE:
            return signal.reason.split(": ", 1)[-1]
    return shorten(finding.stats.example, 100)


def shorten(text: str, width: int = 80) -> str:
    """One line of at most ``width`` characters, for sentences that quote a log line."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _minutes(window: timedelta) -> str:
    return f"{int(window.total_seconds() // 60)} min"

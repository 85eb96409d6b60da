"""Sessions that break their usual event sequence (HDFS blocks, request and trace ids).

A session is the list of events (templates) one block, request or trace went through. The model
learns, without labels, what almost every session does, and flags the sessions that do not:

* **invariants** between event counts, in the spirit of Lou et al. (USENIX ATC'10): pairs of
  events whose counts keep a fixed small ratio in (almost) every session that has either of
  them — every "allocate" is followed by three "receiving", "opened" and "closed" occur equally
  often. A session with a different ratio lost or repeated part of its work;
* **rare events**: events that only a tiny share of sessions ever contain (an exception in the
  write path), and events never seen at all when the model was fitted on a baseline;
* **unusual endings**: a session that ends on an event almost no session ends on.

The pure layer (:class:`SessionModel`, :func:`find_broken_sessions`) works on plain sequences of
event ids, so the HDFS benchmark runs it without logs. :func:`detect_sessions` is the pipeline's
wrapper: it maps sessions to templates, leaves sessions cut by the start or end of the input
alone (a block still being written is not broken), and emits one signal per template that
characterises the broken sessions, with example session keys.

Sessions with identical event counts (and ending) are checked once: real traffic repeats a few
hundred shapes, so checking stays cheap whatever the number of sessions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from math import gcd

from aiops_copilot.detect.baseline import Baseline
from aiops_copilot.detect.stats import SessionTrace, StatsCollector, TemplateStats
from aiops_copilot.detect.tone import tone_of
from aiops_copilot.models import Severity, Signal, SignalKind


@dataclass(frozen=True, slots=True)
class SessionConfig:
    #: Fewest sessions to learn anything from; below it the detector stays silent. At least
    #: half of them must have two events or more: single-event "sessions" (ids that appear
    #: once, sampled logs) have no sequence to break, and rare templates are novelty's business.
    min_sessions: int = 30
    #: An event in at most this share of sessions is rare (so rarity needs >= 100 sessions).
    rare_fraction: float = 0.01
    #: An invariant must hold in at least this share of the sessions that have either event ...
    min_holds: float = 0.98
    #: ... and those sessions must be at least this many.
    min_support: int = 20
    #: Largest coefficient in an invariant (``a * count(A) == b * count(B)``, a, b <= this).
    max_times: int = 3
    #: Events considered for invariants: the most widespread ones, at most this many ...
    max_invariant_events: int = 40
    #: ... each present in at least this share of sessions.
    min_presence: float = 0.02
    #: A session ending on an event that ends at most this share of sessions ended unusually.
    terminal_fraction: float = 0.002
    #: Sessions used for fitting, at most (the first ones).
    max_fit_sessions: int = 200_000
    #: Pipeline only: sessions active this close to the input's start or end may be cut by it.
    open_seconds: float = 60.0
    #: Pipeline only: a session with this many events hit the collector's cap (StatsCollector's
    #: ``max_session_events``) and lost the rest, so it is treated like a session cut by the input.
    capped_events: int = 500
    #: Pipeline only: example session keys named in a reason.
    examples: int = 3


class ViolationKind(StrEnum):
    UNSEEN = "unseen"  # an event never seen in the sessions the model was fitted on
    RARE = "rare"  # an event only a tiny share of sessions contain
    INVARIANT = "invariant"  # a count ratio (almost) every session keeps
    TERMINAL = "terminal"  # ended on an event (almost) no session ends on


#: Kinds that an unfinished session also shows: never reported for sessions cut by the input.
INCOMPLETE_KINDS = frozenset({ViolationKind.INVARIANT, ViolationKind.TERMINAL})


@dataclass(frozen=True, slots=True)
class Invariant:
    """``left_times * count(left) == right_times * count(right)`` in ``holds`` of ``support``
    sessions that contain either event."""

    left: str
    right: str
    left_times: int
    right_times: int
    holds: float
    support: int

    def kept_by(self, counts: Mapping[str, int]) -> bool:
        return self.left_times * counts.get(self.left, 0) == self.right_times * counts.get(
            self.right, 0
        )

    def relation(self, name: Callable[[str], str] = str) -> str:
        left, right = name(self.left), name(self.right)
        if self.left_times == self.right_times:
            return f"{left} and {right} occur equally often"
        if self.left_times == 1:
            return f"{left} occurs {self.right_times} times per {right}"
        if self.right_times == 1:
            return f"{right} occurs {self.left_times} times per {left}"
        return f"{left} and {right} occur in the ratio {self.right_times}:{self.left_times}"


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a session broke the usual pattern, attributed to one event."""

    kind: ViolationKind
    event: str
    #: How sure the model is that this is abnormal (the share of sessions that behave), 0..1.
    strength: float
    #: Share of fitted sessions that contain (rare) or end on (terminal) ``event``.
    share: float = 0.0
    fitted: int = 0
    invariant: Invariant | None = None
    #: The session's counts of the invariant's left and right events.
    counts: tuple[int, int] = (0, 0)

    @property
    def key(self) -> tuple[str, str, str]:
        """Violations that are "the same rule broken the same way" share a key."""
        if self.invariant is not None:
            return (self.kind.value, self.invariant.left, self.invariant.right)
        return (self.kind.value, self.event, "")

    def describe(self, name: Callable[[str], str] = str) -> str:
        if self.kind is ViolationKind.UNSEEN:
            return f"{name(self.event)} never occurred in the {self.fitted:,} sessions learned from"
        if self.kind is ViolationKind.RARE:
            return f"{name(self.event)} occurs in only {self.share:.1%} of {self.fitted:,} sessions"
        if self.kind is ViolationKind.TERMINAL:
            return (
                f"ended on {name(self.event)}, which ends only {self.share:.1%} of "
                f"{self.fitted:,} sessions"
            )
        assert self.invariant is not None
        inv = self.invariant
        return (
            f"{name(inv.left)} x{self.counts[0]} against {name(inv.right)} x{self.counts[1]}, "
            f"while {inv.relation(name)} in {inv.holds:.1%} of {inv.support:,} sessions"
        )


def _shape(sequence: Sequence[str]) -> tuple[tuple[tuple[str, int], ...], str]:
    """What the model looks at in a session: its event counts and its last event."""
    counts = Counter(sequence)
    return tuple(sorted(counts.items())), (sequence[-1] if sequence else "")


@dataclass(slots=True)
class SessionModel:
    """What (almost) every fitted session does; :meth:`check` says how a session differs."""

    sessions: int
    presence: dict[str, int]
    ends: dict[str, int]
    invariants: list[Invariant]
    config: SessionConfig = field(default_factory=SessionConfig)
    #: Fitted sessions with at least two events.
    multi_event: int = 0

    @property
    def usable(self) -> bool:
        return self.sessions >= self.config.min_sessions and 2 * self.multi_event >= self.sessions

    @classmethod
    def fit(
        cls, sequences: Iterable[Sequence[str]], config: SessionConfig | None = None
    ) -> SessionModel:
        config = config or SessionConfig()
        shapes: Counter[tuple[tuple[tuple[str, int], ...], str]] = Counter()
        sessions = 0
        for sequence in sequences:
            if sessions >= config.max_fit_sessions:
                break
            if sequence:
                shapes[_shape(sequence)] += 1
                sessions += 1
        presence: Counter[str] = Counter()
        ends: Counter[str] = Counter()
        multi_event = 0
        for (counts, last), weight in shapes.items():
            for event, _ in counts:
                presence[event] += weight
            ends[last] += weight
            if len(counts) > 1 or counts[0][1] > 1:
                multi_event += weight
        model = cls(sessions, dict(presence), dict(ends), [], config, multi_event)
        if model.usable:
            model.invariants = _mine_invariants(shapes, presence, sessions, config)
        return model

    def check(self, sequence: Sequence[str]) -> list[Violation]:
        """How one session breaks the pattern (empty: it does not, or the model is unusable)."""
        if not self.usable or not sequence:
            return []
        return self._check_shape(*_shape(sequence))

    def check_all(self, sequences: Iterable[Sequence[str]]) -> list[list[Violation]]:
        """:meth:`check` for many sessions, each distinct shape checked once."""
        cache: dict[tuple[tuple[tuple[str, int], ...], str], list[Violation]] = {}
        result: list[list[Violation]] = []
        for sequence in sequences:
            if not self.usable or not sequence:
                result.append([])
                continue
            shape = _shape(sequence)
            found = cache.get(shape)
            if found is None:
                found = cache[shape] = self._check_shape(*shape)
            result.append(found)
        return result

    def _check_shape(self, items: tuple[tuple[str, int], ...], last: str) -> list[Violation]:
        config, total = self.config, self.sessions
        found: list[Violation] = []
        rare_events: set[str] = set()
        for event, _ in items:
            present = self.presence.get(event, 0)
            if present == 0:
                found.append(Violation(ViolationKind.UNSEEN, event, 1.0, 0.0, total))
                rare_events.add(event)
            elif present <= config.rare_fraction * total:
                share = present / total
                strength = 1.0 - 0.5 * share / config.rare_fraction
                found.append(Violation(ViolationKind.RARE, event, strength, share, total))
                rare_events.add(event)
        counts = dict(items)
        for inv in self.invariants:
            left, right = counts.get(inv.left, 0), counts.get(inv.right, 0)
            if (left or right) and not inv.kept_by(counts):
                excess = inv.left if inv.left_times * left > inv.right_times * right else inv.right
                found.append(
                    Violation(
                        ViolationKind.INVARIANT,
                        excess,
                        inv.holds,
                        fitted=total,
                        invariant=inv,
                        counts=(left, right),
                    )
                )
        ended = self.ends.get(last, 0)
        if last not in rare_events and ended <= config.terminal_fraction * total:
            share = ended / total
            strength = 1.0 - 0.5 * share / config.terminal_fraction
            found.append(Violation(ViolationKind.TERMINAL, last, strength, share, total))
        return found


def _mine_invariants(
    shapes: Mapping[tuple[tuple[tuple[str, int], ...], str], int],
    presence: Mapping[str, int],
    sessions: int,
    config: SessionConfig,
) -> list[Invariant]:
    """Pairwise count ratios that hold in (almost) every session having either event.

    Shapes are scanned heaviest first and a pair is dropped as soon as its broken sessions
    exceed what the threshold allows, so pairs that are not invariants (nearly all of them)
    cost a few rows each even when sessions come in a hundred thousand shapes.
    """
    candidates = [
        event
        for event, present in sorted(presence.items(), key=lambda kv: (-kv[1], kv[0]))
        if present >= config.min_presence * sessions
    ][: config.max_invariant_events]
    rows = [
        (dict(counts), weight)
        for (counts, _), weight in sorted(shapes.items(), key=lambda kv: -kv[1])
    ]
    slack = 1.0 - config.min_holds
    invariants: list[Invariant] = []
    for i, left in enumerate(candidates):
        for right in candidates[i + 1 :]:
            have_left, have_right = presence[left], presence[right]
            # Sessions with only one of the two break any ratio: too many, no invariant.
            if abs(have_left - have_right) > slack * max(have_left, have_right):
                continue
            allowed = slack * (have_left + have_right)
            for ratio in _ratios(rows, left, right, config.max_times, allowed):
                found = _holds(rows, left, right, ratio, allowed)
                if found is None:
                    continue
                kept, support = found
                if support >= config.min_support and kept >= config.min_holds * support:
                    # count(left) / count(right) == a / b  <=>  b * count(left) == a * count(right)
                    a, b = ratio
                    invariants.append(
                        Invariant(left, right, b, a, round(kept / support, 4), support)
                    )
                break
    return invariants


def _ratios(
    rows: Sequence[tuple[dict[str, int], int]],
    left: str,
    right: str,
    max_times: int,
    allowed: float,
) -> list[tuple[int, int]]:
    """Candidate ratios count(left):count(right), from the heaviest shapes that have both;
    none once the sessions with only one of them are already too many."""
    found: list[tuple[int, int]] = []
    alone = 0
    for counts, weight in rows:
        a, b = counts.get(left, 0), counts.get(right, 0)
        if bool(a) != bool(b):
            alone += weight
            if alone > allowed:
                return []
        elif a and b:
            g = gcd(a, b)
            ratio = (a // g, b // g)
            if ratio not in found and max(ratio) <= max_times:
                found.append(ratio)
            if len(found) == 3:
                break
    return found


def _holds(
    rows: Sequence[tuple[dict[str, int], int]],
    left: str,
    right: str,
    ratio: tuple[int, int],
    allowed: float,
) -> tuple[int, int] | None:
    """(sessions keeping the ratio, sessions with either event), or None once too many break."""
    a, b = ratio
    support = broken = 0
    for counts, weight in rows:
        x, y = counts.get(left, 0), counts.get(right, 0)
        if x or y:
            support += weight
            if b * x != a * y:
                broken += weight
                if broken > allowed:
                    return None
    return support - broken, support


def find_broken_sessions(
    sequences: Sequence[Sequence[str]],
    *,
    fit: Iterable[Sequence[str]] | None = None,
    config: SessionConfig | None = None,
) -> list[list[Violation]]:
    """For each sequence, how it breaks the usual pattern (empty list: it does not).

    The model is fitted on ``fit`` (unlabelled sessions, a baseline) or, without it, on the
    sequences themselves. Pure: plain event ids in, plain findings out.
    """
    model = SessionModel.fit(fit if fit is not None else sequences, config)
    return model.check_all(sequences)


# -- the pipeline's wrapper ------------------------------------------------------------------


def culprit(violations: Sequence[Violation], sequence: Sequence[str]) -> str:
    """The event most characteristic of a broken session: a rare or unseen event it contains
    (the rarest), else the event most of its broken rules point to (the later one on a tie)."""
    rare = [v for v in violations if v.kind in (ViolationKind.UNSEEN, ViolationKind.RARE)]
    if rare:
        return min(rare, key=lambda v: (v.share, v.event)).event
    position = {event: index for index, event in enumerate(sequence)}
    votes = Counter(v.event for v in violations)
    return max(votes, key=lambda event: (votes[event], position.get(event, -1), event))


def _is_open(
    trace: SessionTrace, start: datetime | None, end: datetime | None, grace: float
) -> bool:
    margin = timedelta(seconds=grace)
    if end is not None and trace.last_seen is not None and trace.last_seen >= end - margin:
        return True
    return start is not None and trace.first_seen is not None and trace.first_seen <= start + margin


@dataclass(slots=True)
class _Group:
    sessions: list[SessionTrace] = field(default_factory=list)
    rules: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    example: dict[tuple[str, str, str], Violation] = field(default_factory=dict)


def session_signals(
    traces: Sequence[tuple[SessionTrace, list[str]]],
    templates: Sequence[TemplateStats],
    *,
    fit: Iterable[Sequence[str]] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    config: SessionConfig | None = None,
) -> list[Signal]:
    """One signal per template that characterises broken sessions. ``traces`` pairs each
    session with its events as template ids; ``start``/``end`` bound the input in time."""
    config = config or SessionConfig()
    sequences = [events for _, events in traces]
    model = SessionModel.fit(fit if fit is not None else sequences, config)
    if not model.usable:
        return []
    by_id = {item.template_id: item for item in templates}
    groups: dict[str, _Group] = {}
    for (trace, events), found in zip(traces, model.check_all(sequences), strict=True):
        if found and (
            len(trace.events) >= config.capped_events
            or _is_open(trace, start, end, config.open_seconds)
        ):
            found = [v for v in found if v.kind not in INCOMPLETE_KINDS]
        if not found:
            continue
        group = groups.setdefault(culprit(found, events), _Group())
        group.sessions.append(trace)
        for violation in found:
            group.rules[violation.key] += 1
            group.example.setdefault(violation.key, violation)
    signals = []
    for template_id, group in groups.items():
        item = by_id.get(template_id)
        if item is not None:
            signals.append(_signal(item, group, model, len(traces), by_id, config))
    return sorted(signals, key=lambda s: (-s.count, s.template_id))


def _name(by_id: Mapping[str, TemplateStats]) -> Callable[[str], str]:
    def name(template_id: str) -> str:
        item = by_id.get(template_id)
        text = item.template if item is not None else template_id
        return repr(text if len(text) <= 60 else text[:57] + "...")

    return name


def _signal(
    item: TemplateStats,
    group: _Group,
    model: SessionModel,
    total: int,
    by_id: Mapping[str, TemplateStats],
    config: SessionConfig,
) -> Signal:
    broken = len(group.sessions)
    rule, times = group.rules.most_common(1)[0]
    top = group.example[rule]
    examples = ", ".join(t.key for t in group.sessions[: config.examples])
    reason = (
        f"{broken:,} of {total:,} sessions broke their usual sequence around this template: "
        f"{top.describe(_name(by_id))}"
    )
    if times < broken:
        reason += f" ({times:,} of them)"
    others = len(group.rules) - 1
    if others:
        reason += f"; {others} other rule(s) broken too"
    reason += f"; e.g. {examples}"
    tone = tone_of(item)
    strong = top.strength >= config.min_holds and model.sessions >= 200 and broken <= 0.05 * total
    severity = tone.severity
    if severity is Severity.INFO and strong:
        severity = Severity.LOW  # a rule 99% of many sessions keep is structure, not chatter
    score = min(1.0, tone.boost + 0.25 + 0.15 * top.strength)
    firsts = [t.first_seen for t in group.sessions if t.first_seen is not None]
    lasts = [t.last_seen for t in group.sessions if t.last_seen is not None]
    return Signal(
        kind=SignalKind.SESSION,
        template_id=item.template_id,
        score=round(score, 3),
        reason=reason,
        severity=severity,
        count=broken,
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
    )


def detect_sessions(
    templates: list[TemplateStats],
    collector: StatsCollector,
    *,
    baseline: Baseline | None = None,
    config: SessionConfig | None = None,
) -> list[Signal]:
    """The pipeline's detector: fits on the baseline's sessions when it has enough, else on
    the input's own sessions (bind ``baseline``/``config`` with ``functools.partial``)."""
    config = config or SessionConfig()
    if not collector.sessions:
        return []
    resolve = collector.template_ids()
    traces = list(collector.session_sequences(resolve))
    fit: list[list[str]] | None = None
    if baseline is not None:
        learned = baseline.session_sequences(resolve)
        if len(learned) >= config.min_sessions:
            fit = learned
    return session_signals(
        traces,
        templates,
        fit=fit,
        start=collector.first_seen,
        end=collector.last_seen,
        config=config,
    )

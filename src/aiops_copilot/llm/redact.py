"""The one egress gate: every string bound for an LLM provider passes through a ``Redactor``.

Why a single module: a secret that leaves the machine cannot be called back, so the rule must be
easy to audit -- one place decides what is sensitive, and a test can check that every provider
call path goes through it. The patterns themselves are data (``redaction_rules.yaml``); this
module only compiles and applies them.

Why consistent placeholders rather than ``***``: the model still needs to see that two lines talk
about the same database password or the same client IP, and the answer it writes must be turned
back into something an operator can act on. One ``Redactor`` lives for one analysis or
conversation, hands out ``<SECRET_1>``, ``<IP_2>`` ... (same value, same placeholder), and
``restore`` puts the originals back -- only for placeholders it issued itself, so a model cannot
make it reveal anything by inventing one. ``audit`` lists what was hidden with a short preview,
never the full value, for ``aiops llm audit``.

Placeholders are never redacted again (a second ``redact`` pass is a no-op), and a
placeholder-shaped string already present in the input is reserved so that ``restore`` cannot
turn it into something else: ``restore(redact(text)) == text``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final, NamedTuple

import yaml

__all__ = [
    "PLACEHOLDER_RE",
    "AuditEntry",
    "RedactionPolicy",
    "RedactionRule",
    "Redactor",
    "RuleSet",
    "load_rules",
    "luhn_valid",
    "preview",
]

#: Shape of every placeholder the gate issues (and of those it refuses to touch).
PLACEHOLDER_RE: Final = re.compile(r"<([A-Z]+)_([0-9]+)>")

_RULES_RESOURCE: Final = "redaction_rules.yaml"
_FLAGS: Final = re.VERBOSE | re.ASCII
_CARD_MIN, _CARD_MAX = 13, 19


@dataclass(frozen=True, slots=True)
class RedactionPolicy:
    """Which optional kinds are redacted; credentials and keys are always redacted.

    IPs and emails identify people and systems and are hidden by default. Hostnames are kept by
    default because service names (``db.prod.internal``) are usually what makes a diagnosis
    useful; turn them off for a stricter egress policy.
    """

    ips: bool = True
    hostnames: bool = False
    emails: bool = True

    def allows(self, switch: str | None) -> bool:
        """True when a rule gated by ``switch`` (or by nothing) should run."""
        return switch is None or bool(getattr(self, switch))


class AuditEntry(NamedTuple):
    """One hidden value as ``aiops llm audit`` shows it: never the value itself."""

    placeholder: str
    kind: str
    preview: str


@dataclass(frozen=True, slots=True)
class RedactionRule:
    """One compiled rule from ``redaction_rules.yaml`` (see the file for field meanings)."""

    name: str
    kind: str
    pattern: re.Pattern[str]
    groups: tuple[int, ...]
    check: str | None = None
    policy: str | None = None
    needs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the gate loads from data: rules in order plus the lists the checks use."""

    rules: tuple[RedactionRule, ...]
    hostname_tlds: frozenset[str]
    keep_ips: frozenset[str]


def preview(value: str) -> str:
    """A hint for a human reading the audit ('ab…yz'); short values show nothing at all.

    At most four characters of a value are shown, and only when it is at least ten long, so the
    preview never narrows a secret down to something guessable.
    """
    if len(value) >= 10:
        return f"{value[:2]}…{value[-2:]} ({len(value)} chars)"
    if len(value) >= 6:
        return f"{value[0]}…{value[-1]} ({len(value)} chars)"
    return f"… ({len(value)} chars)"


def luhn_valid(digits: str) -> bool:
    """Luhn checksum over ASCII digits; what separates a card number from any long number."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _compile_rule(raw: Mapping[str, Any], secret_keys: str) -> RedactionRule:
    group = raw.get("group", 0)
    groups = tuple(int(g) for g in group) if isinstance(group, list) else (int(group),)
    source = str(raw["pattern"]).replace("{secret_keys}", secret_keys)
    return RedactionRule(
        name=str(raw["name"]),
        kind=str(raw["kind"]).upper(),
        pattern=re.compile(source, _FLAGS),
        groups=groups,
        check=raw.get("check"),
        policy=raw.get("policy"),
        needs=tuple(str(n).lower() for n in raw.get("needs", ())),
    )


def _parse_rules(document: Mapping[str, Any]) -> RuleSet:
    secret_keys = "|".join(str(k) for k in document.get("secret_keys", ()))
    rules = tuple(_compile_rule(raw, secret_keys) for raw in document["rules"])
    known_checks = {None, "luhn", "ipv4", "ipv6", "hostname"}
    for rule in rules:
        if rule.check not in known_checks:
            raise ValueError(f"redaction rule {rule.name}: unknown check {rule.check!r}")
        if rule.policy is not None and rule.policy not in RedactionPolicy.__dataclass_fields__:
            raise ValueError(f"redaction rule {rule.name}: unknown policy {rule.policy!r}")
        if not PLACEHOLDER_RE.fullmatch(f"<{rule.kind}_1>"):
            raise ValueError(f"redaction rule {rule.name}: kind must be upper-case letters")
    return RuleSet(
        rules=rules,
        hostname_tlds=frozenset(str(t).lower() for t in document.get("hostname_tlds", ())),
        keep_ips=frozenset(str(ip) for ip in document.get("keep_ips", ())),
    )


@lru_cache(maxsize=1)
def load_rules() -> RuleSet:
    """The shipped rule set, parsed and compiled once per process."""
    text = resources.files(__package__).joinpath(_RULES_RESOURCE).read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError(f"{_RULES_RESOURCE}: expected a mapping at the top level")
    return _parse_rules(document)


def _card_shaped(lengths: Sequence[int], separators: str) -> bool:
    """Whether digit groups are laid out the way card numbers are printed.

    One unbroken 13-19 digit number, or groups of four (the last may be shorter), or the
    4-6-5 / 4-6-4 Amex and Diners layout, with one kind of separator throughout. Requiring
    the layout keeps arbitrary space-separated numbers on a log line from adding up to a card.
    """
    total = sum(lengths)
    if not _CARD_MIN <= total <= _CARD_MAX or len(set(separators)) > 1:
        return False
    if len(lengths) == 1:
        return True
    if tuple(lengths) in {(4, 6, 5), (4, 6, 4)}:
        return True
    return all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Every Luhn-valid, card-shaped window of digit groups in a run, left to right.

    Windows rather than the whole run, so a card followed by an unrelated number (or a second
    card) on the same line is still found; the leftmost longest window wins at each position.
    No card number starts with 0, which keeps zero-padded registers and counters out.
    """
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", run)]
    lengths = [end - start for start, end in groups]
    found: list[tuple[int, int]] = []
    first = 0
    while first < len(groups):
        best: int | None = None
        if lengths[first] == 4 or lengths[first] >= _CARD_MIN:  # how every printed card starts
            total = 0
            # A card has at most 19 digits: the window never grows past that, which bounds the
            # work on a long run of numbers to a constant per group.
            for last in range(first, len(groups)):
                total += lengths[last]
                if total > _CARD_MAX:
                    break
                if total < _CARD_MIN:
                    continue
                separators = "".join(run[groups[i][1]] for i in range(first, last))
                start, end = groups[first][0], groups[last][1]
                if (
                    _card_shaped(lengths[first : last + 1], separators)
                    and run[start] != "0"
                    and luhn_valid(run[start:end].replace(" ", "").replace("-", ""))
                ):
                    best = last
        if best is None:
            first += 1
        else:
            found.append((groups[first][0], groups[best][1]))
            first = best + 1
    return found


class Redactor:
    """Consistent, reversible redaction for one analysis or conversation.

    Not thread-safe by design: one instance belongs to one conversation, and its placeholder
    numbering is part of what the model sees.
    """

    def __init__(self, policy: RedactionPolicy | None = None, rules: RuleSet | None = None) -> None:
        self.policy = policy or RedactionPolicy()
        self._ruleset = rules or load_rules()
        self._active = tuple(r for r in self._ruleset.rules if self.policy.allows(r.policy))
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._reserved: set[str] = set()

    # -- public API -------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` with every sensitive value replaced by its placeholder."""
        if not text:
            return text
        self._reserve_foreign_placeholders(text)
        lowered = text.lower()
        for rule in self._active:
            if rule.needs and not any(n in lowered for n in rule.needs):
                continue
            updated = rule.pattern.sub(self._replacer(rule), text)
            if updated != text:
                text = updated
                lowered = text.lower()
        return text

    def redact_many(self, texts: Iterable[str]) -> list[str]:
        """Redact several strings with the same numbering (e.g. the messages of one request)."""
        return [self.redact(t) for t in texts]

    def restore(self, text: str) -> str:
        """Put back the originals of placeholders this Redactor issued; leave any other as is."""
        if "<" not in text:
            return text
        return PLACEHOLDER_RE.sub(lambda m: self._by_placeholder.get(m.group(0), m.group(0)), text)

    @property
    def audit(self) -> list[AuditEntry]:
        """What was hidden so far, in issue order, with a preview instead of the value."""
        return [
            AuditEntry(placeholder, self._kinds[placeholder], preview(value))
            for placeholder, value in self._by_placeholder.items()
        ]

    @property
    def mapping_size(self) -> int:
        """How many distinct values have been hidden."""
        return len(self._by_placeholder)

    # -- internals ----------------------------------------------------------------------------

    def _reserve_foreign_placeholders(self, text: str) -> None:
        if "<" not in text:
            return
        for match in PLACEHOLDER_RE.finditer(text):
            if match.group(0) not in self._by_placeholder:
                self._reserved.add(match.group(0))

    def _placeholder_for(self, value: str, kind: str) -> str:
        existing = self._by_value.get(value)
        if existing is not None:
            return existing
        number = self._counters.get(kind, 0)
        while True:
            number += 1
            placeholder = f"<{kind}_{number}>"
            if placeholder not in self._reserved:
                break
        self._counters[kind] = number
        self._by_value[value] = placeholder
        self._by_placeholder[placeholder] = value
        self._kinds[placeholder] = kind
        return placeholder

    def _replacer(self, rule: RedactionRule) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            group = next((g for g in rule.groups if match.group(g) is not None), None)
            if group is None:
                return match.group(0)
            whole = match.group(0)
            offset = match.start(group) - match.start(0)
            pieces: list[str] = []
            cursor = 0
            for start, end in self._checked_spans(rule, match.group(group)):
                secret = whole[offset + start : offset + end]
                if not secret or ("<" in secret and PLACEHOLDER_RE.search(secret)):
                    continue
                pieces.append(whole[cursor : offset + start])
                pieces.append(self._placeholder_for(secret, rule.kind))
                cursor = offset + end
            pieces.append(whole[cursor:])
            return "".join(pieces)

        return replace

    def _checked_spans(self, rule: RedactionRule, value: str) -> list[tuple[int, int]]:
        """The parts of a captured value to hide, after the rule's validator (often all)."""
        whole = [(0, len(value))]
        check = rule.check
        if check is None:
            return whole
        if check == "luhn":
            return _card_spans(value)
        if check == "ipv4":
            return [] if value in self._ruleset.keep_ips else whole
        if check == "ipv6":
            return whole if self._is_ipv6(value) else []
        if check == "hostname":
            last = value.rsplit(".", 1)[-1].lower()
            return whole if last in self._ruleset.hostname_tlds else []
        return []

    def _is_ipv6(self, value: str) -> bool:
        address = value.split("%", 1)[0]
        if "::" not in address and address.count(":") < 6:
            return False  # a clock time or a MAC address, not an IPv6 address
        try:
            parsed = ipaddress.IPv6Address(address)
        except ValueError:
            return False
        return address not in self._ruleset.keep_ips and str(parsed) not in self._ruleset.keep_ips

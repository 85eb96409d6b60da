"""An :class:`Incident` back from one element of the JSON contract's ``incidents``.

Why: the store keeps, for each incident, the contract of its newest sighting (what
``aiops analyze --format json`` printed), not the dataclasses. When someone resolves an
incident, the notifier must render it as it rendered the page, and every notifier renders from
an :class:`Incident`; this is the inverse of :func:`incident_to_dict` that gets one back.

The contract is partly derived (see ``report/view.py``), so the reconstruction is chosen to make
``incident_to_dict(incident_from_dict(d)) == d`` for every ``d`` the pipeline writes, not to
recover the original object. What cannot come back:

- the grouping's own title when a diagnosis named the incident (both get the diagnosis' title);
- which knowledge-base entries were the grouping's and which the diagnosis' (``entry_ids`` is
  their union; it all goes to the incident);
- diagnosis evidence beyond the first ``EVIDENCE_LIMIT`` lines (``evidence_lines`` is all
  that was written; it becomes the diagnosis' evidence);
- the diagnosis' own ``severity``/``severity_reason`` (the incident's severity already has it);
- the facts' and entities' Python types: they stay as JSON wrote them (datetimes, paths and
  enums inside facts stay strings, sets stay lists, tuples lists);
- scores beyond the four decimals the contract keeps.

Keys that are only derived (``domain``, ``evidence``, ``template_ids``, ``history.text``,
``llm.text``, ``classification.top``) are ignored on load. A dict from an older release may
lack any optional key: it takes the dataclass default (or an empty value). Only ``id``,
``fingerprint`` and ``severity`` are required; a missing required key or a value of the wrong
type raises :class:`ValueError` with a one-line message naming the key.

Where a contract key has the model attribute's name (every nested object does: signals, lines,
hypotheses, history, ``llm``...), it is read by the attribute's annotated type rather than field
by field: one reader per type, not one per dataclass. The contract is still the authority: a
renamed attribute would no longer find its key, and the round-trip tests would fail.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from aiops_copilot.models import Classification, Diagnosis, Domain, Incident, LineRef
from aiops_copilot.report.incidents_json import jsonable

__all__ = ["incident_from_dict"]

_E = TypeVar("_E", bound=Enum)
_T = TypeVar("_T")

#: Stands for "no default": the key is required.
_REQUIRED: Any = object()


def incident_from_dict(data: Mapping[str, Any]) -> Incident:
    """The incident one element of the contract's ``incidents`` describes (see module doc)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"an incident must be a JSON object, got {_kind(data)}")
    obj = _Obj(data, "")
    title = _text(obj.get("title", ""), "title")
    return _read(
        obj,
        Incident,
        # Required by the dataclass, optional in the contract: an older dict may lack them.
        missing={"title": "", "score": 0.0, "count": 0},
        minutes=dict(obj.items("timeline", _minute)),
        classification=_classification(obj.child("classification")),
        diagnosis=_diagnosis(obj, title),
    )


def _diagnosis(obj: _Obj, title: str) -> Diagnosis | None:
    """The fixer's diagnosis, when the dict names an agent (it shares the incident's keys).

    Its title is the incident's (``title_of`` prefers it), its evidence the ``evidence_lines``
    (``evidence_of`` shows them first); its entry ids stay on the incident (the contract's
    ``entry_ids`` is the union of both, so either side gives the same union back), and its
    ``severity`` is not the contract's, which is the incident's.
    """
    if obj.get("agent", None) is None:
        return None
    return _read(
        obj,
        Diagnosis,
        missing={"root_cause": "", "confidence": 0.0},
        title=title,
        evidence=obj.items("evidence_lines", _line),
        facts=jsonable(obj.mapping("facts")),
        entry_ids=[],
        severity=None,
    )


def _classification(obj: _Obj | None) -> Classification | None:
    """Scores and reasons per domain; ``top`` is derived from the scores.

    The contract lists the scores best first, rounded to four decimals, so two domains may come
    back equal that were not; each is then nudged below its predecessor by the least float step
    (which rounds back to the same four decimals) so the ranking, and the top domain with it,
    stays the one that was written.
    """
    if obj is None:
        return None
    scores: dict[Domain, float] = {}
    previous: tuple[Domain, float, float] | None = None  # domain, score as written, as kept
    for name, value in obj.mapping("scores", _REQUIRED).items():
        domain = _enum(name, Domain, obj.where(f"scores.{name}"))
        written = score = _number(value, obj.where(f"scores.{name}"))
        if previous is not None and _tie_out_of_order(domain, written, previous):
            score = math.nextafter(previous[2], -math.inf)
        scores[domain] = score
        previous = (domain, written, score)
    reasons: dict[Domain, list[str]] = {}
    for name, value in obj.mapping("reasons").items():
        where = obj.where(f"reasons.{name}")
        reasons[_enum(name, Domain, where)] = _texts(value, where)
    return Classification(scores=scores, reasons=reasons)


def _tie_out_of_order(domain: Domain, score: float, previous: tuple[Domain, float, float]) -> bool:
    """True when ``domain`` was written level with the domain listed before it, yet
    ``Classification.ranked`` would put it first (its name sorts first): a rounding tie."""
    prev_domain, prev_written, prev_kept = previous
    return score == prev_written and (-score, domain.value) < (-prev_kept, prev_domain.value)


def _line(obj: _Obj) -> LineRef:
    """A cited line; without ``end_line`` (older dicts) it is the one physical line."""
    line_no = _integer(obj.get("line_no"), obj.where("line_no"))
    return _read(obj, LineRef, missing={"end_line": line_no})


def _minute(obj: _Obj) -> tuple[int, int]:
    """A timeline point back to ``(epoch minute, records)``, the key ``Incident.minutes`` uses."""
    moment = _moment(obj.get("minute"), obj.where("minute"))
    return int(moment.timestamp()) // 60, _integer(obj.get("count"), obj.where("count"))


#: Nested dataclasses whose contract shape differs from their fields.
_READERS: dict[type, Callable[[_Obj], Any]] = {LineRef: _line}


def _read(obj: _Obj, cls: type[_T], *, missing: Mapping[str, Any] = {}, **given: Any) -> _T:
    """An instance of dataclass ``cls``: ``given`` fields as passed, the others read from the
    key of their name by their annotated type.

    A missing key (or ``null`` for an optional field) takes the dataclass default, else the
    value in ``missing``, else ``None`` when the field may be ``None``; else it is an error.
    """
    values = dict(given)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name in given:
            continue
        hint = _hints(cls)[field.name]
        inner = _optional(hint)
        absent = field.name not in obj.data or (obj.data[field.name] is None and inner is not None)
        if absent and _has_default(field):
            continue
        if absent and field.name in missing:
            values[field.name] = missing[field.name]
        elif absent and inner is not None:
            values[field.name] = None
        else:  # present, or required (``obj.get`` says it is missing)
            values[field.name] = _value(obj, field.name, inner or hint)
    return cls(**values)


def _value(obj: _Obj, key: str, hint: Any) -> Any:
    """The value at ``key`` read as type ``hint`` (not ``None``: the caller handled that)."""
    where = obj.where(key)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and dataclasses.is_dataclass(args[0]):
        return obj.items(key, _reader(args[0]))
    if origin is list:
        value, scalar = obj.get(key), _SCALARS[args[0]]
        if not isinstance(value, list):
            raise _wrong(where, "a list", value)
        return [scalar(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        scalar = _SCALARS[args[1]]
        return {str(k): scalar(v, f"{where}.{k}") for k, v in obj.mapping(key, _REQUIRED).items()}
    if dataclasses.is_dataclass(hint):
        child = obj.child(key)
        if child is None:  # null where the model has no room for None
            raise _wrong(where, "an object", None)
        return _reader(hint)(child)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(obj.get(key), hint, where)
    return _SCALARS[hint](obj.get(key), where)


def _reader(cls: Any) -> Callable[[_Obj], Any]:
    return _READERS.get(cls) or functools.partial(_read, cls=cls)


def _hints(cls: type) -> dict[str, Any]:
    """The dataclass' field types, resolved (``models`` writes them as strings), once each."""
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


_HINTS: dict[type, dict[str, Any]] = {}


def _optional(hint: Any) -> Any:
    """``X`` for an ``X | None`` annotation, else ``None``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return None


def _has_default(field: dataclasses.Field[Any]) -> bool:
    return (
        field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
    )


class _Obj:
    """One JSON object being read, and where it sits (for error messages)."""

    __slots__ = ("data", "path")

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        """The value at ``key``; without a ``default`` the key is required."""
        if key in self.data:
            return self.data[key]
        if default is _REQUIRED:
            raise ValueError(f"incident: required key {self.where(key)!r} is missing")
        return default

    def mapping(self, key: str, default: Any = None) -> Mapping[str, Any]:
        """The object at ``key``; ``{}`` when missing or ``null`` unless it is required."""
        value = self.get(key, default)
        if value is None and default is None:
            return {}
        if not isinstance(value, Mapping):
            raise _wrong(self.where(key), "an object", value)
        return value

    def child(self, key: str) -> _Obj | None:
        value = self.get(key, None)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise _wrong(self.where(key), "an object or null", value)
        return _Obj(value, self.where(key))

    def items(self, key: str, read: Callable[[_Obj], _T]) -> list[_T]:
        """Each object of the list at ``key`` read by ``read``; ``[]`` when missing or null."""
        value = self.get(key, None)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _wrong(self.where(key), "a list", value)
        out: list[_T] = []
        for index, item in enumerate(value):
            where = self.where(f"{key}[{index}]")
            if not isinstance(item, Mapping):
                raise _wrong(where, "an object", item)
            out.append(read(_Obj(item, where)))
        return out


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    return value


def _texts(value: Any, where: str) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise _wrong(where, "a list of strings", value)
    return [_text(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "an integer", value)
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(where, "a number", value)
    return float(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _wrong(where, "true or false", value)
    return value


def _enum(value: Any, kind: type[_E], where: str) -> _E:
    try:
        return kind(value)
    except (ValueError, TypeError):
        known = ", ".join(str(member.value) for member in kind)
        raise ValueError(f"incident: {where} is {_shown(value)}, not one of: {known}") from None


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise _wrong(where, "an ISO 8601 time", value)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"incident: {where} is {_shown(value)}, not an ISO 8601 time") from None


#: How each scalar field type is read.
_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    str: _text,
    int: _integer,
    float: _number,
    bool: _flag,
    datetime: _moment,
}


def _wrong(where: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"incident: {where} must be {expected}, got {_kind(value)}")


def _kind(value: Any) -> str:
    """The JSON name of a value's type, for messages (the value itself may be huge)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _shown(value: Any, limit: int = 40) -> str:
    """A value quoted on one line, cut to ``limit`` characters (``repr`` escapes newlines)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"

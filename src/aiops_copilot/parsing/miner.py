"""A Drain-family template miner that fixes Drain's known weak spots.

How it works, and why it differs from Drain/Drain3:

* Messages are split on whitespace and every token is *masked* first (see :mod:`masking`):
  variable values become typed placeholders. Drain3 compares a masked token as an ordinary
  string and, worse, does not count template parameters as matches, so a mostly-variable line
  can never reach the similarity threshold and opens a cluster of its own every time. Here a
  placeholder matches a placeholder of the same type, and a position that the cluster has
  already seen vary (``<*>``) matches any value.
* Candidates are found through a small index keyed by (token count, first token), as Drain's
  fixed-depth tree does, but the first token is routed to a wildcard branch when it is a
  variable of any kind, not only when it contains a digit.
* Words that change what a line *means* (``started``/``stopped``, ``accepted``/``failed``)
  never merge into a ``<*>``: two lines that differ there are different events.
* An exact-sequence cache sends a masked token sequence seen before straight to its cluster,
  so repetitive logs cost a dict lookup per line after masking.
* Memory is bounded: at most ``max_clusters`` clusters, the least recently used evicted first.
* Template ids are content hashes of the template text, so the same template has the same id
  in every run and on every machine; state is saved as plain JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from aiops_copilot.parsing.masking import (
    PLACEHOLDER,
    WILDCARD,
    Masker,
    mask_phrases,
    to_wildcards,
)

STATE_VERSION: Final = 1

#: Pairs of words whose difference changes the meaning of a line; loaded from data.
_MEANINGFUL_FILE: Final = Path(__file__).with_name("meaningful_words.json")


def _load_meaningful_groups() -> dict[str, frozenset[int]]:
    groups: list[list[str]] = json.loads(_MEANINGFUL_FILE.read_text(encoding="utf-8"))["groups"]
    index: dict[str, set[int]] = {}
    for number, words in enumerate(groups):
        for word in words:
            index.setdefault(word.lower(), set()).add(number)
    return {word: frozenset(numbers) for word, numbers in index.items()}


#: word -> the groups of alternatives it belongs to.
MEANINGFUL_WORDS: Final[dict[str, frozenset[int]]] = _load_meaningful_groups()


@dataclass(frozen=True, slots=True)
class MinerConfig:
    """Tuning knobs; one configuration serves every dataset (no per-source masks).

    ``similarity`` is the share of positions that must agree for a line to join a family.
    ``max_constant_values``: a position that has shown at most this many distinct words is
    still treated as a set of constants (each value its own template); one more and it is a
    variable. This is what keeps ``Failed password``/``Failed none`` apart while usernames
    collapse into ``<*>``.
    """

    similarity: float = 0.6
    max_constant_values: int = 2
    max_clusters: int = 50_000
    sequence_cache_size: int = 200_000
    max_tokens: int = 400
    example_chars: int = 500
    max_scan: int = 500
    cross_route_similarity: float = 0.7


@dataclass(slots=True, eq=False)
class Cluster:
    """One template: its family's tokens, undecided positions fixed to this cluster's words."""

    cid: int
    family: _Family
    key: tuple[str, ...]
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    example: str = ""
    merged_into: Cluster | None = field(default=None, repr=False)
    _template_id: str | None = field(default=None, repr=False)
    _tokens: list[str] | None = field(default=None, repr=False)

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            tokens = list(self.family.tokens)
            for position, value in zip(self.family.pending, self.key, strict=True):
                tokens[position] = value
            self._tokens = tokens
        return self._tokens

    @property
    def template(self) -> str:
        """The template with typed placeholders (``<IP>``, ``<NUM>`` ...)."""
        return " ".join(self.tokens)

    @property
    def template_wildcards(self) -> str:
        """The template with every placeholder written ``<*>``."""
        return to_wildcards(self.template)

    @property
    def template_id(self) -> str:
        """A stable id: a hash of the template text, the same on every run and machine."""
        if self._template_id is None:
            self._template_id = template_id_of(self.template)
        return self._template_id

    def resolve(self) -> Cluster:
        """The cluster this one now lives in (itself unless it was merged away)."""
        cluster = self
        while cluster.merged_into is not None:
            cluster = cluster.merged_into
        return cluster

    def _invalidate(self) -> None:
        self._tokens = None
        self._template_id = None


@dataclass(slots=True, eq=False)
class _Family:
    """Lines of one shape. Positions that varied are either *pending* (a few distinct words so
    far: each word still makes its own cluster) or variables (``<*>``, many words seen)."""

    fid: int
    tokens: list[str]
    route: tuple[int, str] = (0, "")
    literal_from: int = 0
    anchors: tuple[tuple[int, int, str], ...] = ()
    pending: list[int] = field(default_factory=list)
    values: dict[int, set[str]] = field(default_factory=dict)
    pinned: set[int] = field(default_factory=set)
    children: dict[tuple[str, ...], Cluster] = field(default_factory=dict)


_NO_GROUPS: Final[frozenset[int]] = frozenset()
_NO_FAMILIES: Final[list[_Family]] = []


def template_id_of(template: str) -> str:
    digest = hashlib.blake2b(template.encode("utf-8"), digest_size=6).hexdigest()
    return f"T{digest}"


def _same_shape_variables(a: str, b: str) -> bool:
    """Both hold a variable and agree once variables are removed (``rhost=<IP>`` and
    ``rhost=<HOST>``): the same field with values of different kinds, so a variable."""
    if "<" not in a or "<" not in b:
        return False
    shape_a = PLACEHOLDER.sub("", a)
    return shape_a == PLACEHOLDER.sub("", b) and shape_a != a


def _meaning_conflict(a: str, b: str) -> bool:
    groups = MEANINGFUL_WORDS.get(a.strip(_PUNCT).lower())
    if groups is None:
        return False
    return bool(groups & MEANINGFUL_WORDS.get(b.strip(_PUNCT).lower(), _NO_GROUPS))


_PUNCT: Final = "\"'`([{<>}]),;:.!?"


class TemplateMiner:
    """Online template mining: ``add`` one message at a time, read clusters at any moment."""

    def __init__(self, config: MinerConfig | None = None, *, masker: Masker | None = None) -> None:
        self.config = config or MinerConfig()
        self.masker = masker or Masker()
        self._clusters: OrderedDict[int, Cluster] = OrderedDict()
        self._families: dict[int, _Family] = {}
        self._index: dict[tuple[int, str], list[_Family]] = {}
        self._anchors: dict[tuple[int, int, str], list[_Family]] = {}
        self._sequence_cache: dict[tuple[str, ...], Cluster] = {}
        self._next_cid = 1
        self._next_fid = 1
        self.lines_seen = 0
        self.evicted = 0

    # -- public API ---------------------------------------------------------------------------

    def tokenize(
        self,
        message: str,
        fields: Mapping[str, Any] | None = None,
        identity: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Masked tokens of a message; structured fields add ``key=<*>`` tokens (keys fixed,
        values vary); identity fields add ``key=value`` tokens kept literally, last."""
        tokens = self.masker.mask_tokens(mask_phrases(message).split()[: self.config.max_tokens])
        if fields:
            tokens.extend(f"{key}={WILDCARD}" for key in sorted(fields))
        if identity:
            tokens.extend(f"{key}={identity[key]}" for key in sorted(identity))
        return tokens

    def add(
        self,
        message: str,
        *,
        fields: Mapping[str, Any] | None = None,
        identity: Mapping[str, Any] | None = None,
        timestamp: datetime | None = None,
    ) -> Cluster:
        """Mine one message and return the cluster it joined (possibly new).

        ``identity`` holds fields whose values make a different event (an HTTP status: a 502
        is not a 200); they are never generalised. The cluster may later be merged into another
        one when a position turns out to be a variable; :meth:`Cluster.resolve` follows merges.
        """
        tokens = self.tokenize(message, fields, identity)
        return self.absorb(
            tokens,
            len(tokens) - len(identity or ()),
            message=message,
            first_seen=timestamp,
            last_seen=timestamp,
        )

    def absorb(
        self,
        tokens: list[str],
        literal_from: int,
        *,
        message: str,
        count: int = 1,
        first_seen: datetime | None = None,
        last_seen: datetime | None = None,
    ) -> Cluster:
        """Mine an already tokenized sequence seen ``count`` times (``message`` is its first
        line, kept as the example of a new cluster).

        Why it exists: the miner's templates depend only on the order in which *distinct* token
        sequences first appear (a sequence seen before is a cache hit that changes nothing but
        counts), as long as the sequence cache and ``max_clusters`` are not exceeded. So
        workers can tokenize their part of the input in parallel and summarise it as distinct
        sequences with counts; absorbing those summaries in input order gives the same
        templates, ids and counts as mining every line here (the Dask engine and the broker
        consumers rely on this).
        """
        cluster = self._add_tokens(tokens, literal_from)
        self.lines_seen += count
        cluster.count += count
        if not cluster.example:
            cluster.example = message[: self.config.example_chars]
        if first_seen is not None and (
            cluster.first_seen is None or first_seen < cluster.first_seen
        ):
            cluster.first_seen = first_seen
        if last_seen is not None and (cluster.last_seen is None or last_seen > cluster.last_seen):
            cluster.last_seen = last_seen
        return cluster

    def match(
        self,
        message: str,
        fields: Mapping[str, Any] | None = None,
        identity: Mapping[str, Any] | None = None,
    ) -> Cluster | None:
        """Find the cluster a message belongs to without learning from it (inference only)."""
        tokens = self.tokenize(message, fields, identity)
        cached = self._sequence_cache.get(tuple(tokens))
        if cached is not None:
            cached = cached.resolve()
            if cached.cid in self._clusters:
                return cached
        family = self._best_family(tokens, len(tokens) - len(identity or ()))
        if family is None:
            return None
        key = tuple(tokens[p] for p in family.pending)
        child = family.children.get(key)
        if child is not None:
            return child
        # An unseen word at an undecided position: the closest existing cluster of the family.
        return max(family.children.values(), key=lambda c: c.count, default=None)

    @property
    def clusters(self) -> list[Cluster]:
        return list(self._clusters.values())

    def get(self, cid: int) -> Cluster | None:
        return self._clusters.get(cid)

    def __len__(self) -> int:
        return len(self._clusters)

    def __iter__(self) -> Iterator[Cluster]:
        return iter(list(self._clusters.values()))

    # -- mining -------------------------------------------------------------------------------

    def _add_tokens(self, tokens: list[str], literal_from: int) -> Cluster:
        key = tuple(tokens)
        cached = self._sequence_cache.get(key)
        if cached is not None:
            cached = cached.resolve()
            if cached.cid in self._clusters:
                self._clusters.move_to_end(cached.cid)
                return cached
        family = self._best_family(tokens, literal_from)
        if family is None:
            family = self._new_family(tokens, literal_from)
        else:
            self._generalise(family, tokens)
        child_key = tuple(tokens[p] for p in family.pending)
        cluster = family.children.get(child_key)
        if cluster is None:
            cluster = self._new_cluster(family, child_key)
        else:
            self._clusters.move_to_end(cluster.cid)
        if len(self._sequence_cache) >= self.config.sequence_cache_size:
            self._sequence_cache.clear()
        self._sequence_cache[key] = cluster
        return cluster

    @staticmethod
    def _route(tokens: list[str]) -> tuple[int, str]:
        if not tokens:
            return (0, "")
        first = tokens[0]
        return (len(tokens), WILDCARD if "<" in first and ">" in first else first)

    def _best_family(self, tokens: list[str], literal_from: int) -> _Family | None:
        route = self._route(tokens)
        threshold = self.config.similarity
        scan = self.config.max_scan
        found = self._best_in(
            self._index.get(route, _NO_FAMILIES)[-scan:], tokens, threshold, literal_from
        )
        if found is None and route[1] != WILDCARD:
            wild = self._index.get((route[0], WILDCARD), _NO_FAMILIES)
            found = self._best_in(wild[-scan:], tokens, threshold, literal_from)
        if found is None and len(tokens) > 1:
            # Lines whose first word differs (a variable Drain's tree cannot see) still meet
            # their family, on stronger evidence, among families sharing the second or the last
            # word: an index lookup, not a scan of every family of that length.
            candidates: dict[int, _Family] = {}
            for anchor in self._anchor_keys(tokens):
                for family in self._anchors.get(anchor, _NO_FAMILIES)[-scan:]:
                    candidates[family.fid] = family
            found = self._best_in(
                list(candidates.values()),
                tokens,
                max(threshold, self.config.cross_route_similarity),
                literal_from,
            )
        return found

    @staticmethod
    def _anchor_keys(tokens: list[str]) -> tuple[tuple[int, int, str], ...]:
        length = len(tokens)
        keys = []
        for position in {1, length - 1}:
            token = tokens[position]
            if not ("<" in token and ">" in token):
                keys.append((length, position, token))
        return tuple(keys)

    def _best_in(
        self,
        candidates: list[_Family] | None,
        tokens: list[str],
        threshold: float,
        literal_from: int,
    ) -> _Family | None:
        if not candidates:
            return None
        if not tokens:
            return candidates[0]
        best: _Family | None = None
        best_score = threshold
        length = len(tokens)
        literals = tokens[literal_from:]
        for family in candidates:
            if family.literal_from != literal_from or family.tokens[literal_from:] != literals:
                continue
            score = self._similarity(family, tokens, length, best_score)
            if score >= best_score and (best is None or score > best_score):
                best, best_score = family, score
        return best

    @staticmethod
    def _similarity(family: _Family, tokens: list[str], length: int, floor: float) -> float:
        """Share of positions that agree; needs at least one agreeing constant word.

        A variable position agrees with anything; an undecided position agrees only with a
        word it has already seen (a new word there is a difference, as for a constant).
        Gives up (0.0) as soon as the score cannot reach ``floor``: most candidates are far off.
        """
        matched = 0
        constants = 0
        misses = 0
        allowed = length - floor * length
        values = family.values
        for position, (have, new) in enumerate(zip(family.tokens, tokens, strict=True)):
            if misses > allowed:
                return 0.0
            if have == new:
                matched += 1
                if "<" not in have:
                    constants += 1
            elif have == WILDCARD:
                seen = values.get(position)
                if seen is None:
                    matched += 1
                elif new in seen:
                    matched += 1
                    constants += 1
                else:
                    misses += 1
            elif _meaning_conflict(have, new):
                return -1.0
            else:
                misses += 1
        if constants == 0 and any("<" not in t for t in tokens):
            return 0.0
        return matched / length

    def _generalise(self, family: _Family, tokens: list[str]) -> None:
        template = family.tokens
        limit = self.config.max_constant_values
        for position, (have, new) in enumerate(zip(template, tokens, strict=True)):
            if have == new:
                continue
            if have == WILDCARD:
                values = family.values.get(position)
                if values is not None and new not in values:
                    if position not in family.pinned and any(
                        _meaning_conflict(old, new) for old in values
                    ):
                        family.pinned.add(position)
                    values.add(new)
                    if len(values) > limit and position not in family.pinned:
                        self._make_variable(family, position)
                continue
            # A constant position varies for the first time.
            template[position] = WILDCARD
            if position == 0:
                self._index.setdefault((len(template), WILDCARD), []).append(family)
            if _same_shape_variables(have, new):
                # Two variables of different kinds: a variable, no question. The children's
                # templates changed with the family's tokens: forget their cached text and id.
                for child in family.children.values():
                    child._invalidate()
                continue
            self._make_pending(family, position, have, new)
            if _meaning_conflict(have, new):
                family.pinned.add(position)

    def _make_pending(self, family: _Family, position: int, old: str, new: str) -> None:
        family.values[position] = {old, new}
        insert_at = 0
        while insert_at < len(family.pending) and family.pending[insert_at] < position:
            insert_at += 1
        family.pending.insert(insert_at, position)
        children = family.children
        family.children = {}
        for key, child in children.items():
            new_key = (*key[:insert_at], old, *key[insert_at:])
            child.key = new_key
            child._invalidate()
            family.children[new_key] = child

    def _make_variable(self, family: _Family, position: int) -> None:
        drop_at = family.pending.index(position)
        family.pending.pop(drop_at)
        del family.values[position]
        children = sorted(family.children.values(), key=lambda c: c.cid)
        family.children = {}
        for child in children:
            new_key = child.key[:drop_at] + child.key[drop_at + 1 :]
            survivor = family.children.get(new_key)
            if survivor is None:
                child.key = new_key
                child._invalidate()
                family.children[new_key] = child
                continue
            survivor.count += child.count
            if child.first_seen and (
                not survivor.first_seen or child.first_seen < survivor.first_seen
            ):
                survivor.first_seen = child.first_seen
            if child.last_seen and (not survivor.last_seen or child.last_seen > survivor.last_seen):
                survivor.last_seen = child.last_seen
            child.merged_into = survivor
            self._clusters.pop(child.cid, None)
        for child in family.children.values():
            child._invalidate()

    def _new_family(self, tokens: list[str], literal_from: int | None = None) -> _Family:
        family = _Family(
            fid=self._next_fid,
            tokens=list(tokens),
            literal_from=len(tokens) if literal_from is None else literal_from,
            route=self._route(tokens),
            anchors=self._anchor_keys(tokens) if len(tokens) > 1 else (),
        )
        self._next_fid += 1
        self._families[family.fid] = family
        self._index.setdefault(family.route, []).append(family)
        for anchor in family.anchors:
            self._anchors.setdefault(anchor, []).append(family)
        return family

    def _new_cluster(self, family: _Family, key: tuple[str, ...]) -> Cluster:
        cluster = Cluster(cid=self._next_cid, family=family, key=key)
        self._next_cid += 1
        family.children[key] = cluster
        self._clusters[cluster.cid] = cluster
        while len(self._clusters) > self.config.max_clusters:
            self._evict_oldest()
        return cluster

    def _evict_oldest(self) -> None:
        _, victim = self._clusters.popitem(last=False)
        family = victim.family
        family.children.pop(victim.key, None)
        if not family.children:
            self._drop_family(family)
        self.evicted += 1

    def _drop_family(self, family: _Family) -> None:
        self._families.pop(family.fid, None)
        length = len(family.tokens)
        for key in {family.route, (length, WILDCARD)}:
            bucket = self._index.get(key)
            if bucket is not None and family in bucket:
                bucket.remove(family)
                if not bucket:
                    del self._index[key]
        for anchor in family.anchors:
            bucket = self._anchors.get(anchor)
            if bucket is not None and family in bucket:
                bucket.remove(family)
                if not bucket:
                    del self._anchors[anchor]

    # -- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON state (no pickle): safe to load from an untrusted file."""
        return {
            "version": STATE_VERSION,
            "config": {
                "similarity": self.config.similarity,
                "max_constant_values": self.config.max_constant_values,
                "max_clusters": self.config.max_clusters,
            },
            "lines_seen": self.lines_seen,
            "next_cid": self._next_cid,
            "families": [
                {
                    "tokens": family.tokens,
                    "literal_from": family.literal_from,
                    "pending": family.pending,
                    "values": {str(p): sorted(v) for p, v in family.values.items()},
                    "pinned": sorted(family.pinned),
                    "clusters": [
                        {
                            "cid": c.cid,
                            "template_id": c.template_id,
                            "key": list(c.key),
                            "count": c.count,
                            "first_seen": c.first_seen.isoformat() if c.first_seen else None,
                            "last_seen": c.last_seen.isoformat() if c.last_seen else None,
                            "example": c.example,
                        }
                        for c in sorted(family.children.values(), key=lambda c: c.cid)
                    ],
                }
                for family in self._families.values()
            ],
        }

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_dict(
        cls, state: Mapping[str, Any], config: MinerConfig | None = None
    ) -> TemplateMiner:
        """Rebuild a miner from :meth:`to_dict` output; raises ValueError on a foreign file."""
        if not isinstance(state, Mapping) or state.get("version") != STATE_VERSION:
            raise ValueError("not a miner state file of this version")
        miner = cls(config)
        try:
            clusters: list[Cluster] = []
            for item in state["families"]:
                tokens = [str(t) for t in item["tokens"]]
                family = miner._new_family(tokens, int(item.get("literal_from", len(tokens))))
                family.pending = [int(p) for p in item["pending"]]
                family.values = {int(p): {str(v) for v in vs} for p, vs in item["values"].items()}
                family.pinned = {int(p) for p in item.get("pinned", [])}
                for entry in item["clusters"]:
                    cluster = Cluster(
                        cid=int(entry["cid"]),
                        family=family,
                        key=tuple(str(k) for k in entry["key"]),
                        count=int(entry["count"]),
                        first_seen=_parse_dt(entry.get("first_seen")),
                        last_seen=_parse_dt(entry.get("last_seen")),
                        example=str(entry.get("example", "")),
                    )
                    if len(cluster.key) != len(family.pending):
                        raise ValueError("cluster key does not fit its family")
                    family.children[cluster.key] = cluster
                    clusters.append(cluster)
            for cluster in sorted(clusters, key=lambda c: c.cid):
                miner._clusters[cluster.cid] = cluster
            miner._next_cid = max(
                int(state.get("next_cid", 1)), max(miner._clusters, default=0) + 1
            )
            miner.lines_seen = int(state.get("lines_seen", 0))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"miner state file is damaged ({exc!r})") from None
        return miner

    @classmethod
    def load(cls, path: Path, config: MinerConfig | None = None) -> TemplateMiner:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a miner state file ({exc})") from None
        try:
            return cls.from_dict(state, config)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None


def _parse_dt(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None

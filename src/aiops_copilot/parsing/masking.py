"""Typed masking of variable tokens.

The miner compares token sequences; a variable value (a block id, an IP, a latency) must not
look like a different word each time, or every line opens a cluster of its own. Masking replaces
such values with *typed* placeholders (``<IP>``, ``<NUM>`` ...) so that two lines whose variables
are of the same kind compare equal at that position. The type is kept inside the template because
it is useful to people and to later stages (an ``<IP>`` is evidence for the network fixer); for
scoring against benchmarks every placeholder is shown as ``<*>``.

The hot path is per token and most tokens are ordinary words, so classification is cached per
distinct token and short-circuits on tokens that cannot hold a variable.
"""

from __future__ import annotations

import re
from typing import Final

WILDCARD: Final = "<*>"

#: Placeholder names, in the order they are tried on a whole token (most specific first).
_TYPED_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "UUID",
        re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ),
    ("URL", re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")),
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")),
    (
        "DATETIME",
        re.compile(
            r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T_ -]?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?"
            r"(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
            r"|\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
        ),
    ),
    (
        "IP",
        re.compile(
            r"/?(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?"
            r"|\[?(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}\]?(?::\d{1,5})?"
        ),
    ),
    ("MAC", re.compile(r"(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}")),
    ("DURATION", re.compile(r"-?\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hrs?)")),
    ("SIZE", re.compile(r"\d+(?:\.\d+)?(?:[KMGTP]i?B|[kKMGTP]|bytes?|B)", re.IGNORECASE)),
    ("HEX", re.compile(r"0[xX][0-9a-fA-F]+|[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*")),
    ("NUM", re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?%?")),
    (
        "PATH",
        re.compile(r"(?:[a-zA-Z]:)?(?:[\\/][\w.@+~$-]*){2,}|\.{1,2}/[\w./@+~$-]+|~/[\w./@+~$-]*"),
    ),
)

#: A host name: dotted labels ending in a real top-level domain (so Java class names such as
#: ``org.apache.hadoop.Foo`` are not taken for hosts), optionally with a port.
_HOST: Final = re.compile(
    r"(?:[a-zA-Z0-9-]+\.)+(?:com|net|org|edu|gov|mil|int|io|co|uk|de|fr|jp|cn|hk|ru|br|in|au|"
    r"nl|it|es|ch|se|no|eu|us|ca|info|biz|local|internal|lan|localdomain|cloud|dev|app)"
    r"(?::\d{1,5})?",
    re.IGNORECASE,
)
_DIGIT: Final = re.compile(r"\d")
_DIGIT_RUN: Final = re.compile(r"\d{2,}")
_ALL_HEX: Final = re.compile(r"[0-9a-fA-F]{8,}")
_STRUCTURAL: Final = re.compile(r"([,;(){}\[\]])")
#: Month and weekday names are parts of a date, never words that tell events apart.
_DATE_WORDS: Final = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
)
#: Booleans and nulls are values, as the corrected Loghub labels treat them.
_VALUE_WORDS: Final = frozenset(["true", "false", "null", "none", "nil"])
_LEADING: Final = "([{<\"'`"
_TRAILING: Final = ")]}>\"'`,;:.!?"
_KEY_VALUE: Final = re.compile(r"([A-Za-z_][\w.\-]*)([=:])(.+)")


#: Variables that span several whitespace tokens ("1060 bytes (1.0 KB)", "<1 sec", "3.5 ms").
#: Masked before splitting so that lines of one event keep one token count.
#: Each with substrings that must occur for it to match: a substring test is far cheaper
#: than running the regex over every message.
_PHRASES: Final[tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...]] = (
    (re.compile(r"\b\d+ bytes(?: \(\d+(?:\.\d+)? [KMGT]i?B\))?"), "<SIZE>", (" bytes",)),
    (
        re.compile(
            r"(?<![\w.])<?\d+(?:\.\d+)? ?(?:ns|us|ms|sec|secs|seconds?|mins?|minutes?|hours?)\b"
        ),
        "<DURATION>",
        ("ns", "us", "ms", "sec", "min", "hour"),
    ),
)


def mask_phrases(message: str) -> str:
    """Replace multi-token variables by one placeholder token each."""
    for pattern, placeholder, needles in _PHRASES:
        if any(needle in message for needle in needles):
            message = pattern.sub(placeholder, message)
    return message


class Masker:
    """Replaces variable tokens by typed placeholders, with a per-token cache.

    ``cache_size`` bounds memory: when the cache fills up it is simply cleared (cheaper than LRU
    bookkeeping on the hot path, and hot words come back within a few lines).
    """

    def __init__(self, *, cache_size: int = 200_000) -> None:
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def mask_tokens(self, tokens: list[str]) -> list[str]:
        cache = self._cache
        out = []
        for tok in tokens:
            masked = cache.get(tok)
            if masked is None:
                masked = self.mask_token(tok)
                if len(cache) >= self._cache_size:
                    cache.clear()
                cache[tok] = masked
            out.append(masked)
        return out

    def mask_token(self, token: str) -> str:
        """Mask one whitespace-free token; returns the token unchanged when it is a constant."""
        if token.isalpha():
            lowered = token.lower()
            if lowered in _DATE_WORDS:
                return "<DATETIME>"
            if lowered in _VALUE_WORDS and token != "None":
                return "<BOOL>"
            return token
        if len(token) <= 1 and not token.isdigit():
            return token
        start, end = 0, len(token)
        while start < end and token[start] in _LEADING:
            start += 1
        while end > start and token[end - 1] in _TRAILING:
            end -= 1
        core = token[start:end]
        if not core:
            return token
        masked = self._mask_core(core)
        if masked is core:
            return token
        return token[:start] + masked + token[end:]

    def _mask_core(self, core: str) -> str:
        has_digit = _DIGIT.search(core) is not None
        if has_digit or "/" in core or "@" in core or "\\" in core:
            for name, pattern in _TYPED_PATTERNS:
                if pattern.fullmatch(core):
                    return f"<{name}>"
        if _HOST.fullmatch(core):
            return "<HOST>"
        if _ALL_HEX.fullmatch(core):
            return "<HEX>"
        kv = _KEY_VALUE.fullmatch(core)
        if kv is not None and not (has_digit and _looks_generated(kv.group(1))):
            key, sep, value = kv.groups()
            masked_value = self.mask_token(value)
            if masked_value != value:
                return key + sep + masked_value
            return core
        if _STRUCTURAL.search(core):
            # Several values glued together ("index:-1,flags:0x3", "Rect(0, 0 - 1080,"):
            # mask each piece between the punctuation.
            pieces = _STRUCTURAL.split(core)
            masked = "".join(
                piece if _STRUCTURAL.fullmatch(piece) or not piece else self.mask_token(piece)
                for piece in pieces
            )
            return masked if masked != core else core
        if has_digit and _looks_generated(core):
            return "<ID>"
        return core


def _looks_generated(core: str) -> bool:
    """An identifier with digits is a generated value (``blk_38865``, ``node-246``) unless its
    digits are a small part of a name (``jk2_init``, ``SOCKS5``, ``en0``, ``log4j``)."""
    if _DIGIT_RUN.search(core):
        return True
    digits = sum(ch.isdigit() for ch in core)
    return digits * 4 > len(core)


#: Any placeholder, ``<*>`` or typed (``<NUM>`` ...), also inside a token (``uid=<NUM>``).
PLACEHOLDER: Final = re.compile(r"<(?:\*|[A-Z]+)>")


def to_wildcards(template: str) -> str:
    """Show every typed placeholder as ``<*>`` (the benchmarks' and Drain's notation)."""
    return PLACEHOLDER.sub(WILDCARD, template)

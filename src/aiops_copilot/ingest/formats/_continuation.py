"""What a continuation line of a multi-line record looks like, independent of the format.

Shared by multi-line folding, detection (such lines are not counted against a header format)
and the ``plain`` format (which must not start a record on a stack frame). Patterns cover Python
tracebacks, Java/JVM stack traces, Go panics and Node.js stacks.
"""

from __future__ import annotations

import re

_CONTINUATION = re.compile(
    r"(?:Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames omitted)"
    r"|Traceback \(most recent call last\):|During handling of the above exception"
    r"|The above exception was the direct cause|goroutine \d+ \[|created by "
    r"|exit status \d+$|\[signal |Node\.js v\d"
    r"|[A-Za-z_][\w./-]*\.[\w.()*\[\]{}-]*\(.*\)$)"
)

#: The exception line that ends a Python traceback: ``ValueError: msg``, ``pkg.Error``.
_PY_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(?:: .*|:)?$")

_TRACEBACK_HEAD = "Traceback (most recent call last):"


def looks_like_continuation(line: str) -> bool:
    """True for lines that never start a record: indented lines, stack frames and the connective
    lines of chained exceptions and goroutine dumps."""
    if not line:
        return False
    first = line[0]
    if first in " \t":
        return bool(line.strip())
    return _CONTINUATION.match(line) is not None


def is_traceback_head(line: str) -> bool:
    return line.startswith(_TRACEBACK_HEAD)


def is_python_exception_line(line: str) -> bool:
    return _PY_EXCEPTION.match(line) is not None


def is_caret_line(line: str) -> bool:
    """``    ^`` / ``~~~^^^``: the pointer under a source excerpt (Node, Python SyntaxError)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.strip("^~")

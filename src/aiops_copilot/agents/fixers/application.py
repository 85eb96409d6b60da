"""The application fixer: exceptions, panics, crashes, hangs and memory exhaustion in app code.

Its extractors read a stack trace the way a developer does: the exception type and message,
then the **top frame in the application's own code** — skipping framework, standard-library,
``site-packages``, ``java.*``, Node internals and Go runtime frames — with the source line when
the trace shows it, plus the release if the logs name one and how often the process crashed
and was restarted. Python, Java, Node.js, Go, Ruby and PHP traces are understood.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of
from aiops_copilot.models import Domain

RUNTIMES = {
    "python": "Python",
    "java": "The JVM",
    "node": "Node.js",
    "go": "The Go program",
    "ruby": "Ruby",
    "php": "PHP",
}

_PY_FRAME = re.compile(r'File "([^"]+)", line (\d+), in ([^\s]+)(?:\n[ \t]+([^\n]+))?')
_PY_EXCEPTION = re.compile(
    r"(?m)^((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|KeyError|Timeout))"
    r"(?::[ \t]*([^\n]*))?$"
)
_JAVA_FRAME = re.compile(r"\bat ((?:[\w$]+\.)+)([\w$<>]+)\(([\w$]+\.(?:java|kt|scala)):(\d+)\)")
_JAVA_EXCEPTION = re.compile(r"((?:[a-z]\w*\.)+[A-Z][\w$]*(?:Exception|Error))(?::[ \t]*([^\n]*))?")
_NODE_FRAME = re.compile(
    r"\bat (?:([^\s(]+) )?\(?((?:/|[A-Za-z]:\\|file://)[^():\s]+):(\d+):(\d+)\)?"
)
_NODE_EXCEPTION = re.compile(
    r"(?m)^(?:Uncaught )?(TypeError|ReferenceError|RangeError|SyntaxError|EvalError|URIError|"
    r"AggregateError|Error)(?: \[\w+\])?: ([^\n]+)$"
)
_NODE_HEADER = re.compile(
    r"(?m)^((?:/|[A-Za-z]:\\)[^\s:]+\.(?:js|mjs|cjs|ts)):(\d+)\n[ \t]*([^\n]+)"
)
_GO_FRAME = re.compile(r"(?m)^([\w./-]+(?:\.\(\*?\w+\))?\.\w+)\([^\n]*\)\n\t(/[^\s:]+\.go):(\d+)")
_GO_PANIC = re.compile(r"(?m)^(panic|fatal error): ([^\n]+)")

_LIBRARY_PATH = re.compile(
    r"site-packages|dist-packages|/lib/python\d|/usr/lib/|<frozen|node_modules|node:internal|"
    r"^internal/|/usr/local/go/src|/usr/lib/go|/go/pkg/mod|/vendor/|/gems/",
    re.IGNORECASE,
)
_LIBRARY_JAVA = re.compile(
    r"^(?:java|javax|jdk|sun|com\.sun|kotlin|scala|org\.springframework|org\.apache|io\.netty|"
    r"org\.hibernate|com\.fasterxml|ch\.qos|org\.slf4j|reactor|io\.undertow|org\.eclipse|"
    r"com\.zaxxer|org\.junit|io\.micrometer|okhttp3|retrofit2|com\.google)\."
)
_GO_RUNTIME = re.compile(r"^(?:runtime|internal|net/http|syscall|reflect|testing|sync)[./]")

#: Exception kinds that say little without their message.
_GENERIC_KINDS = {"panic", "fatal error", "Error", "Exception", "RuntimeError"}


def _runtime(ev: Evidence) -> str | None:
    formats = set(ev.incident.formats)
    software = ev.software
    if ev.has(r"Traceback \(most recent call last\)|\.py\", line") or software & {
        "python",
        "django",
        "flask",
        "gunicorn",
        "uwsgi",
    }:
        return "python"
    if (
        ev.has(r"\bat [\w$.]+\([\w$]+\.java:\d+\)|java\.lang\.|OutOfMemoryError")
        or "java" in software
    ):
        return "java"
    if ev.has(r"node:internal|\.js:\d+|V8|JavaScript heap|node::") or "nodejs" in software:
        return "node"
    if ev.has(r"goroutine \d+ \[|\.go:\d+|panic: runtime error") or "go" in software:
        return "go"
    if ev.has(r"\.rb:\d+:in `") or "ruby" in software:
        return "ruby"
    if ev.has(r"PHP (?:Fatal|Warning)|\.php(?: on line|:\d+)") or software & {"php", "php-fpm"}:
        return "php"
    if "log4j" in formats:
        return "java"
    if "python_logging" in formats:
        return "python"
    return None


def _python(ev: Evidence, facts: dict[str, Any]) -> None:
    """Innermost app frame of each Python traceback, and the exception it ended with."""
    frames: Counter[tuple[str, str, str, str]] = Counter()
    recursive: Counter[str] = Counter()
    for doc in ev.docs:
        if "Traceback" not in doc.text:
            continue
        found = [
            (m.group(1), m.group(2), m.group(3), m.group(4) or "")
            for m in _PY_FRAME.finditer(doc.text)
        ]
        app = [f for f in found if not _LIBRARY_PATH.search(f[0])]
        if app:
            frames[app[-1]] += doc.weight
        for _, _, function, _ in found:
            recursive[function] += 1
    if frames:
        path, line, function, code = frames.most_common(1)[0][0]
        facts["app_frame"] = function
        facts["app_location"] = f"{path.rsplit('/', 1)[-1]}:{line}"
        facts["app_file"] = path
        facts["code"] = code.strip() or None
    if recursive:
        function, count = recursive.most_common(1)[0]
        if count >= 20:
            facts["recursive_function"] = function


def _java(ev: Evidence, facts: dict[str, Any]) -> None:
    frames: Counter[tuple[str, str, str]] = Counter()
    for doc in ev.docs:
        for match in _JAVA_FRAME.finditer(doc.text):
            package, method, file, line = match.groups()
            qualified = package + method
            if _LIBRARY_JAVA.match(qualified):
                continue
            cls = package.rstrip(".").rsplit(".", 1)[-1]
            frames[(f"{cls}.{method}".replace("$", "."), f"{file}:{line}", qualified)] += doc.weight
            break  # the top app frame of this trace only
    if frames:
        frame, location, _ = frames.most_common(1)[0][0]
        facts.setdefault("app_frame", frame)
        facts.setdefault("app_location", location)


def _node(ev: Evidence, facts: dict[str, Any]) -> None:
    frames: Counter[tuple[str, str]] = Counter()
    for doc in ev.docs:
        for match in _NODE_FRAME.finditer(doc.text):
            function, path, line, _ = match.groups()
            if _LIBRARY_PATH.search(path) or path.startswith("node:"):
                continue
            frames[(function or "<anonymous>", f"{path.rsplit('/', 1)[-1]}:{line}")] += doc.weight
            break
    if frames:
        function, location = frames.most_common(1)[0][0]
        facts.setdefault("app_frame", function)
        facts.setdefault("app_location", location)
    header = None
    for doc in ev.docs:
        header = _NODE_HEADER.search(doc.text)
        if header and not _LIBRARY_PATH.search(header.group(1)):
            break
        header = None
    if header:
        facts.setdefault("app_location", f"{header.group(1).rsplit('/', 1)[-1]}:{header.group(2)}")
        facts.setdefault("code", header.group(3).strip())


def _go(ev: Evidence, facts: dict[str, Any]) -> None:
    for doc in ev.docs:
        for match in _GO_FRAME.finditer(doc.text):
            function, path, line = match.groups()
            if _GO_RUNTIME.match(function) or _LIBRARY_PATH.search(path):
                continue
            facts.setdefault("app_frame", function)
            facts.setdefault("app_location", f"{path.rsplit('/', 1)[-1]}:{line}")
            return


def _exception(ev: Evidence, runtime: str | None) -> tuple[str | None, str | None, int]:
    """The dominant exception (type, message, lines), from the traces and messages."""
    found: Counter[tuple[str, str]] = Counter()
    patterns = [_GO_PANIC, _NODE_EXCEPTION, _JAVA_EXCEPTION, _PY_EXCEPTION]
    if runtime == "python":
        patterns = [_PY_EXCEPTION, _JAVA_EXCEPTION]
    for doc in ev.templates or ev.docs:
        for pattern in patterns:
            matches = list(pattern.finditer(doc.text))
            if not matches:
                continue
            kind, message = matches[-1].group(1), (matches[-1].group(2) or "").strip()
            if kind in ("panic", "fatal error"):
                kind, message = f"{kind}: {message}".split(":", 1)[0], message
            found[(kind, message[:200])] += doc.weight
            break
    if not found and ev.templates:
        return _exception_from_lines(ev, patterns)
    if not found:
        return None, None, 0
    (kind, message), _ = found.most_common(1)[0]
    total = sum(n for (k, _), n in found.items() if k == kind)
    return kind, message or None, total


def _exception_from_lines(
    ev: Evidence, patterns: list[re.Pattern[str]]
) -> tuple[str | None, str | None, int]:
    found: Counter[tuple[str, str]] = Counter()
    for doc in ev.lines:
        for pattern in patterns:
            matches = list(pattern.finditer(doc.text))
            if matches:
                found[(matches[-1].group(1), (matches[-1].group(2) or "").strip()[:200])] += 1
                break
    if not found:
        return None, None, 0
    (kind, message), count = found.most_common(1)[0]
    return kind, message or None, count


@register(Domain.APPLICATION)
class ApplicationFixer(SpecialistFixer):
    domain = Domain.APPLICATION
    name = "application-fixer"
    software = frozenset(
        {
            "python",
            "django",
            "flask",
            "gunicorn",
            "uwsgi",
            "java",
            "nodejs",
            "go",
            "ruby",
            "php",
            "php-fpm",
        }
    )
    formats = frozenset({"python_logging", "log4j"})
    keywords = (
        r"Traceback \(most recent call last\)",
        r"\bat [\w$.]+\([\w$]+\.java:\d+\)|Exception in thread",
        r"\w+(?:Error|Exception): ",
        r"panic: |goroutine \d+ \[",
        r"OutOfMemoryError|heap out of memory|Reached heap limit|MemoryError",
        r"WORKER TIMEOUT|harakiri|worker \d+ died|Booting worker",
        r"deadlock|StackOverflowError|RecursionError|Maximum call stack",
    )
    defer = (
        r"No space left on device|Too many open files|Address already in use|Read-only file system",
        r"oom-killer|Killed process|Memory cgroup out of memory",
        r"too many clients|Too many connections|deadlock detected|Deadlock found",
        r"certificate verify failed|Connection refused|could not be resolved",
        r"StatusCode\.|PRECONDITION_FAILED|NOT_FOUND - no exchange|invalid_grant|JSONDecodeError",
    )

    def extract(self, ev: Evidence) -> dict[str, Any]:
        runtime = _runtime(ev)
        facts: dict[str, Any] = {"runtime": runtime, "runtime_name": RUNTIMES.get(runtime or "")}
        kind, message, count = _exception(ev, runtime)
        facts["exception"] = kind
        facts["exception_message"] = message
        facts["exception_count"] = count or None
        _python(ev, facts)
        _java(ev, facts)
        _node(ev, facts)
        _go(ev, facts)
        short = kind.rsplit(".", 1)[-1] if kind else None
        facts["exception_label"] = (
            f"{kind}: {message[:70]}" if kind in _GENERIC_KINDS and message else short
        )
        facts["process"] = first_of(
            next((s for s in ev.incident.services if s and not s[:1].isdigit()), None),
            ev.first(r"\b([a-z][\w-]+) v?\d+\.\d+\.\d+ (?:starting|started)"),
        )
        facts["endpoint"] = first_of(
            ev.first(r"Exception on (/\S+) \[\w+\]"),
            ev.first(r"(?:processing|handling request) (?:GET|POST|PUT|DELETE|PATCH) (/[^\s?]+)"),
            ev.first(
                r"\b(?:GET|POST|PUT|DELETE|PATCH) (/[^\s?\"]+)[^\n]*(?<![\d,.:])500(?!\d|\.\d)"
            ),
        )
        facts["release"] = first_of(
            ev.first(r"\b(?:release|version|build)[=: ]+v?(\d+\.\d+(?:\.\d+)?[\w.+-]*)"),
            ev.first(r"\b[a-z][\w-]+ v?(\d+\.\d+\.\d+) (?:starting|started)"),
        )
        # A crash loop: processes dying and being started again.
        facts["crashes"] = (
            ev.count(
                r"died unexpectedly|worker \d+ died|terminated by SIG|\bcrashed\b|"
                r"exited with (?:code|status) [1-9]|exit status [1-9]|\bpanic: |FATAL ERROR:|"
                r"Aborted \(core dumped\)"
            )
            or None
        )
        facts["restarts"] = (
            ev.count(r"restarting|Booting worker|started again|respawn|worker restart \d") or None
        )
        # Lookups, null references, recursion.
        facts["missing_keys"] = (
            ev.distinct(r"KeyError: ('[^'\n]{1,60}'|\"[^\"\n]{1,60}\"|\w+)")[:5] or None
        )
        code = facts.get("code")
        if isinstance(code, str):
            lookup = re.search(r"([A-Za-z_][\w.]*)\[([^\]]{1,40})\]", code)
            facts["lookup"] = lookup.group(0) if lookup else None
            regex_call = re.search(
                r"(?:\bre|_RE|_PATTERN|regex|pattern|_re)\.(?:match|"
                r"search|fullmatch|findall|sub|split)\(",
                code,
                re.IGNORECASE,
            )
            facts["blocked_in_regex"] = bool(regex_call) or None
            facts["blocked_in_io"] = (
                bool(
                    re.search(
                        r"\.(?:execute|recv|read|get|post|request|connect|query|fetch)\(", code
                    )
                )
                and not regex_call
            ) or None
        facts["null_target"] = first_of(
            ev.first(r"Cannot invoke \"([^\"]+)\" because [^\n]{0,80}? is null"),
            ev.first(r"Cannot read propert(?:y|ies) of (?:undefined|null) \(reading '([^']+)'\)"),
            ev.first(r"'NoneType' object has no attribute '(\w+)'"),
            ev.first(r"undefined method `(\w+)' for nil"),
            "nil pointer" if ev.has(r"nil pointer dereference") else None,
        )
        facts["null_reason"] = first_of(
            ev.first(r"because (\"[^\"]+\" is null)"),
            ev.first(r"(Cannot read propert(?:y|ies) of (?:undefined|null) \(reading '[^']+'\))"),
        )
        if ev.has(
            r"RecursionError|StackOverflowError|Maximum call stack|stack overflow|"
            r"goroutine stack exceeds"
        ):
            facts["recursion"] = True
            facts.setdefault("recursive_function", facts.get("app_frame"))
        # Hangs.
        facts["worker_timeouts"] = (
            ev.count(r"WORKER TIMEOUT|harakiri|request execution timed out") or None
        )
        # Memory.
        facts["heap_used"] = first_of(
            ev.first(r"heap_used=(\w+)/\w+"), ev.first(r"heapUsed[=:]\s*(\w+)")
        )
        facts["heap_max"] = first_of(
            ev.first(r"heap_used=\w+/(\w+)"),
            ev.first(r"-Xmx(\w+)"),
            ev.first(r"--max-old-space-size=(\d+)"),
            ev.first(r"heap_size_limit=(\w+)"),
        )
        facts["full_gcs"] = ev.count(r"Pause Full|Full GC|Mark-Compact") or None
        facts["cache_hint"] = first_of(
            ev.first(r"\b(cached_\w+=\d+)"),
            ev.first(r"\b(cache(?:d)?[ _](?:size|entries|pages|items)[=: ]+\d+)"),
            ev.first(r"\b(\w*cache\w*)\b"),
        )
        # Thread deadlocks.
        if ev.has(
            r"Found (?:one|\d+) Java-level deadlock|Found \d+ deadlock|"
            r"all goroutines are asleep - deadlock"
        ):
            facts["thread_deadlock"] = True
            facts["deadlock_threads"] = (
                ev.distinct(r"\"([^\"]+)\":\n\s+waiting to lock")[:6] or None
            )
            facts["lock_class"] = ev.first(r"waiting to lock monitor [^\n]*?a ([\w$.]+)\)")
            facts["deadlock_frame"] = ev.first(
                r"\bat ([\w$.]+)\([\w$]+\.java:\d+\)\n\s+- waiting to lock"
            )
            facts["stuck_requests"] = ev.first(r"(\d+) requests are in flight")
        return facts

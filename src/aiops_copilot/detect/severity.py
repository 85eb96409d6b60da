"""The severity signal: what the software itself said was bad.

A record's level (ERROR, CRITICAL/FATAL, ALERT, EMERGENCY), an HTTP 5xx status, a non-zero exit
status, or, for lines with no level at all, the words software uses when something failed.
Warnings alone are weak: a retry that worked is logged as a warning on every healthy system.
"""

from __future__ import annotations

import re

from aiops_copilot.detect.stats import TemplateStats
from aiops_copilot.models import Level, Severity, Signal, SignalKind

#: Failure words for records without a level (syslog, plain text). Whole words, case-insensitive.
_FAILURE_WORDS = re.compile(
    r"\b(?:error|errors|errno|fail|failed|failure|fatal|panic|exception|traceback|refused|denied|"
    r"timed? ?out|timeout|abort(?:ed|ing)?|killed|segfault|unreachable|corrupt(?:ed|ion)?|"
    r"cannot|can't|could not|unable to|invalid|critical|emergency|oom)\b",
    re.IGNORECASE,
)
#: A process or job that exited with a non-zero status.
_NONZERO_EXIT = re.compile(
    r"(?:exit(?:ed)?(?: with)?(?: exit)? (?:code|status)[ =:]*|"
    r"returned non-zero exit status |exit_code[=:] ?)(?P<code>[1-9]\d{0,2})\b",
    re.IGNORECASE,
)
_STATUS_IN_TEXT = re.compile(r"(?:\bstatus=|HTTP/\d(?:\.\d)?\"? )(?P<status>[1-5]\d\d)\b")


def _server_errors(stats: TemplateStats) -> int:
    """Records answered with an HTTP 5xx (from the status field or the template's literal)."""
    count = sum(n for status, n in stats.statuses.items() if status.startswith("5"))
    if count:
        return count
    match = _STATUS_IN_TEXT.search(stats.template)
    if match and match.group("status").startswith("5"):
        return stats.count
    return 0


def severity_signal(stats: TemplateStats) -> Signal | None:
    """One signal for the template's worst level / status / exit code, or None."""
    critical = stats.count_at_least(Level.CRITICAL)
    errors = stats.count_at_least(Level.ERROR)
    warnings = stats.levels.get(Level.WARNING, 0)
    where = dict(
        template_id=stats.template_id,
        first_seen=stats.first_seen,
        last_seen=stats.last_seen,
    )
    if critical:
        level = Level(max(stats.levels))
        return Signal(
            SignalKind.SEVERITY,
            score=0.8,
            severity=Severity.HIGH,
            reason=f"{critical:,} record(s) at level {level.name}",
            count=critical,
            **where,  # type: ignore[arg-type]
        )
    server_errors = _server_errors(stats)
    # An access log's level is derived from its status: such records are judged as requests
    # (one or two 5xx are a blip a retry absorbs); any other record at ERROR is an error.
    access_log = bool(stats.formats) and all(f.startswith("access") for f in stats.formats)
    if errors and not (access_log and errors <= server_errors):
        return Signal(
            SignalKind.SEVERITY,
            score=0.6,
            severity=Severity.MEDIUM,
            reason=f"{errors:,} record(s) at level ERROR",
            count=errors,
            **where,  # type: ignore[arg-type]
        )
    if server_errors:
        # One or two 5xx answers are a blip a retry absorbs; a run of them is an incident.
        return Signal(
            SignalKind.SEVERITY,
            score=0.6 if server_errors >= 3 else 0.3,
            severity=Severity.MEDIUM if server_errors < 20 else Severity.HIGH,
            reason=f"{server_errors:,} request(s) answered with HTTP 5xx",
            count=server_errors,
            **where,  # type: ignore[arg-type]
        )
    exit_match = _NONZERO_EXIT.search(stats.example.split("\n", 1)[0])
    code = exit_match and (exit_match.group("code") or exit_match.group("unit"))
    if exit_match and stats.max_level not in (Level.INFO, Level.DEBUG, Level.TRACE):
        return Signal(
            SignalKind.SEVERITY,
            score=0.55,
            severity=Severity.MEDIUM,
            reason=f"a process exited with status {code} ({stats.count:,}x)",
            count=stats.count,
            **where,  # type: ignore[arg-type]
        )
    unlevelled = stats.levels.get(Level.UNKNOWN, 0) + stats.levels.get(Level.NOTICE, 0)
    first_line = stats.example.split("\n", 1)[0]
    if unlevelled and (found := _FAILURE_WORDS.search(first_line)):
        return Signal(
            SignalKind.SEVERITY,
            score=0.35,
            severity=Severity.LOW,
            reason=f"{unlevelled:,} record(s) without a level saying {found.group(0)!r}",
            count=unlevelled,
            **where,  # type: ignore[arg-type]
        )
    if warnings:
        return Signal(
            SignalKind.SEVERITY,
            score=0.2,
            severity=Severity.LOW,
            reason=f"{warnings:,} record(s) at level WARNING",
            count=warnings,
            **where,  # type: ignore[arg-type]
        )
    return None

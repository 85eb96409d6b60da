"""The tool's own logging: Loguru to stderr, quiet unless asked.

Log output is for the person running the tool, never mixed into stdout, where reports and
JSON go, so ``aiops templates --format json | jq`` always works.
"""

from __future__ import annotations

import sys

from loguru import logger

_LEVELS = {0: "WARNING", 1: "INFO", 2: "DEBUG", 3: "TRACE"}
#: The verbosity last set up: a worker forked before the CLI set it up asks for it.
_verbosity = 0


def setup_logging(verbosity: int) -> None:
    """0: warnings and errors only; 1 (-v): progress notes; 2 (-vv): debugging detail."""
    global _verbosity
    _verbosity = verbosity
    logger.remove()
    level = _LEVELS.get(max(0, min(verbosity, 3)), "WARNING")
    fmt = (
        "<level>{level: <7}</level> {message}"
        if verbosity < 2
        else "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
        "<cyan>{name}</cyan>: {message}"
    )
    logger.add(sys.stderr, level=level, format=fmt, backtrace=False, diagnose=False)


def current_verbosity() -> int:
    """The verbosity of the last :func:`setup_logging` (0 before any)."""
    return _verbosity

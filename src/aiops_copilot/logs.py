"""The tool's own logging: Loguru to stderr, quiet unless asked.

Log output is for the person running the tool, never mixed into stdout, where reports and
JSON go, so ``aiops templates --format json | jq`` always works.
"""

from __future__ import annotations

import sys

from loguru import logger

_LEVELS = {0: "WARNING", 1: "INFO", 2: "DEBUG", 3: "TRACE"}


def setup_logging(verbosity: int) -> None:
    """0: warnings and errors only; 1 (-v): progress notes; 2 (-vv): debugging detail."""
    logger.remove()
    level = _LEVELS.get(max(0, min(verbosity, 3)), "WARNING")
    fmt = (
        "<level>{level: <7}</level> {message}"
        if verbosity < 2
        else "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
        "<cyan>{name}</cyan>: {message}"
    )
    logger.add(sys.stderr, level=level, format=fmt, backtrace=False, diagnose=False)

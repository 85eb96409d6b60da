"""Command-line options that several commands share, declared once.

Why: ``analyze``, ``watch`` and ``consume`` take the same knowledge-base, memory, format and
idle-exit options; declared here, a fix to one's help text or bounds reaches all three. Options
whose meaning differs per command (``--db``: what is stored there) stay with their command.
Only Typer and the standard library are imported: every command module may import this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["ExitAfterIdleOpt", "KbPathsOpt", "LogFormatOpt", "NoMemoryOpt"]

KbPathsOpt = Annotated[
    list[Path] | None,
    typer.Option("--kb", help="Extra knowledge-base folder or YAML file (repeatable)."),
]
NoMemoryOpt = Annotated[
    bool,
    typer.Option(
        "--no-memory", help="Neither cite runbooks and past incidents nor remember incidents."
    ),
]
LogFormatOpt = Annotated[
    str | None,
    typer.Option("--log-format", help="Force the log format instead of detecting it."),
]
ExitAfterIdleOpt = Annotated[
    float | None,
    typer.Option(
        "--exit-after-idle",
        min=0.0,
        help="Stop once nothing arrived for this many seconds (scripts, tests).",
        show_default=False,
    ),
]

"""The ``aiops`` command's entry point: start what can start early, then run the CLI.

Kept apart from :mod:`aiops_copilot.cli` because that module imports the CLI framework and
the settings machinery (about a third of a second); a one-shot ``aiops analyze`` forks its
memory worker before paying for them (see :mod:`aiops_copilot.memory.early`).
"""

from __future__ import annotations

import sys


def main() -> None:
    """Console-script entry point."""
    from aiops_copilot.memory.early import start_if_useful

    start_if_useful(sys.argv[1:])
    from aiops_copilot.cli import main as cli_main

    cli_main()

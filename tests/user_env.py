"""The environment a real ``aiops`` process gets in the tests: a user's shell, with HOME and
the XDG folders in a folder of the test's, and no AIOPS_* settings leaking in from the machine.
One definition for every test that starts the program, so they cannot drift apart."""

from __future__ import annotations

import os
from pathlib import Path


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        COLUMNS="200",
        NO_COLOR="1",
    )
    env.update(extra)
    return env

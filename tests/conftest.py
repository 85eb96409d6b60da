"""Shared fixtures: the shipped Loghub-2k samples and a way to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``aiops`` as a user would: a real process, its own cwd and HOME, no terminal."""

    def run(
        *args: str,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> CliResult:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
        full_env.update(
            {
                "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / ".config"),
                "XDG_DATA_HOME": str(tmp_path / ".local" / "share"),
                "COLUMNS": "200",
                "NO_COLOR": "1",
            }
        )
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "aiops_copilot", *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            cwd=tmp_path,
            env=full_env,
            timeout=timeout,
        )
        return CliResult(
            proc.returncode,
            proc.stdout.decode("utf-8", "replace"),
            proc.stderr.decode("utf-8", "replace"),
        )

    return run

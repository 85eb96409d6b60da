"""Shared fixtures: the shipped Loghub-2k samples and a way to run the real CLI."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from user_env import isolated_env


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
        full_env = isolated_env(tmp_path, **(env or {}))
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

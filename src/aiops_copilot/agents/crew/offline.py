"""CrewAI, imported only on demand and only after everything it would send out is switched off.

Why this module exists (measured with crewai 1.15 here, see ``docs/llm.md``): by default a crew
sends OpenTelemetry spans to CrewAI's telemetry host on creation and kickoff, and in a terminal
it asks after the first run whether to upload the execution trace, waiting 20 s for an answer.
The copilot sends nothing anywhere except the configured model, through the redaction gate, so
the switches below are set in the environment *before* the first ``import crewai`` (its
telemetry singleton reads them when it is created) and override whatever the environment said.
With them set, a crew run opens no socket at all besides the model's.

CrewAI also keeps the last kickoff's task outputs in a SQLite file in a folder named after the
current directory; ``CREWAI_STORAGE_DIR`` moves it under the copilot's own data folder. It only
ever sees redacted text (the engine seals every prompt before CrewAI gets it).

CrewAI logs through the standard ``logging`` module; with no handler configured Python prints
its errors to stderr, repeating in a second line what the copilot already said in one. Its
records go to the copilot's log instead, at debug level (``-vv`` shows them).

Nothing here imports crewai at module level: ``aiops analyze`` without ``--engine crewai`` never
pays its import (about five seconds of CPU), and a missing extra is one line, not a traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "OFFLINE_ENV",
    "CrewApi",
    "CrewUnavailable",
    "go_offline",
    "load_crewai",
    "quiet_logging",
]

#: Set before crewai is imported; each one alone is not enough (telemetry, tracing and the
#: first-run trace prompt are separate switches).
OFFLINE_ENV: Final[dict[str, str]] = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "OTEL_SDK_DISABLED": "true",
    "CREWAI_TRACING_ENABLED": "false",
}
INSTALL_HINT: Final = "pip install 'aiops-copilot[crewai]'"


class CrewUnavailable(Exception):
    """CrewAI cannot be used here (the extra is missing or broken): a one-line reason."""


@dataclass(frozen=True)
class CrewApi:
    """The few CrewAI names the engine uses, looked up once. Typed ``Any`` on purpose: crewai
    is optional, so the type checker must not depend on it being installed."""

    Agent: Any
    Crew: Any
    Task: Any
    Process: Any
    BaseLLM: Any
    version: str


def go_offline() -> None:
    """Switch off CrewAI's telemetry, tracing and trace prompt; keep its files in our folder."""
    from aiops_copilot.xdg import data_home

    os.environ.update(OFFLINE_ENV)
    os.environ["CREWAI_STORAGE_DIR"] = str(data_home() / "aiops" / "crewai")


class _ToLoguru(logging.Handler):
    """CrewAI's log records, as debug lines of the copilot's own log."""

    def emit(self, record: logging.LogRecord) -> None:
        from loguru import logger

        logger.debug("crewai: {}: {}", record.levelname.lower(), record.getMessage())


def quiet_logging() -> None:
    """Send the ``crewai`` loggers' records to loguru at debug level, never to stderr."""
    for name in ("crewai", "crewai_core"):
        library = logging.getLogger(name)
        if not any(isinstance(h, _ToLoguru) for h in library.handlers):
            library.addHandler(_ToLoguru())
        library.propagate = False


def load_crewai() -> CrewApi:
    """Import crewai offline, or raise :class:`CrewUnavailable` with the install hint."""
    go_offline()
    quiet_logging()
    try:
        crewai = importlib.import_module("crewai")
        base_llm = importlib.import_module("crewai.llms.base_llm")
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "crewai"
        raise CrewUnavailable(
            f"--engine crewai needs the crewai extra ({missing} is not installed): {INSTALL_HINT}"
        ) from None
    except Exception as exc:  # a broken install must read as one line too
        raise CrewUnavailable(
            f"crewai could not be imported ({type(exc).__name__}: {exc}); {INSTALL_HINT}"
        ) from None
    return CrewApi(
        Agent=crewai.Agent,
        Crew=crewai.Crew,
        Task=crewai.Task,
        Process=crewai.Process,
        BaseLLM=base_llm.BaseLLM,
        version=str(getattr(crewai, "__version__", "?")),
    )

"""What one ``aiops serve`` process is configured with, gathered in one frozen value.

The application factory takes only this (plus the effective :class:`Settings`), so tests,
the CLI and the load benchmark build the same server from the same description.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiops_copilot.config import Settings

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServeOptions:
    """Limits and wiring of the API server (defaults are the documented ones)."""

    settings: Settings = field(default_factory=Settings)
    #: ``AIOPS_API_TOKEN``: when set, every endpoint except ``/healthz`` and ``/readyz`` needs
    #: ``Authorization: Bearer <token>`` (or HTTP Basic with the token as password).
    token: str | None = None
    #: Largest request body the ingestion endpoints accept, after decompression (413 above).
    max_body_bytes: int = 10 * MIB
    #: Largest upload ``POST /v1/analyze`` accepts (413 above).
    max_upload_bytes: int = 100 * MIB
    #: Records accepted but not yet analysed; a push arriving when this many wait gets 429.
    queue_records: int = 100_000
    #: Seconds of records gathered before the live pipeline analyses a window.
    window_seconds: float = 60.0
    #: A window is analysed early once it holds this many records (bounded memory).
    max_window_records: int = 200_000
    #: Uploads analysed at once; further ones wait, and beyond ``analyze_waiting`` get 429.
    analyze_workers: int = 1
    analyze_waiting: int = 4
    #: Syslog listeners (``udp://host:port``, ``tcp://host:port``) feeding the same queue.
    syslog: tuple[str, ...] = ()
    #: Log sources the server keeps a line counter for (the least recently used is forgotten).
    max_sources: int = 10_000

"""A real HTTP receiver for notification tests, and incidents built by hand.

The receiver is ``http.server`` on a free 127.0.0.1 port in a thread: it records every request
(path, headers, parsed JSON body) and answers from a script of statuses, so retries, rate
limits and failures are tested over real sockets, not mocks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiops_copilot.models import (
    Classification,
    Diagnosis,
    Domain,
    Incident,
    IncidentHistory,
    IncidentStatus,
    LineRef,
    Severity,
    TemplateRef,
)

T0 = datetime(2026, 11, 20, 11, 9, 2, tzinfo=UTC)
PG_LINE = "2026-11-20 11:09:02.946 UTC [28834] FATAL:  sorry, too many clients already"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """Answers each request with the next status of ``script`` (then ``default``)."""

    script: list[int] = field(default_factory=list)
    default: int = 200
    retry_after: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    gate: threading.Event | None = None  # when set up, requests wait until it is set
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.body for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        with self._lock:
            return list(self.requests)

    def _answer(self) -> int:
        with self._lock:
            return self.script.pop(0) if self.script else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            if receiver.gate is not None:
                receiver.gate.wait(20)
            with receiver._lock:
                receiver.requests.append(
                    Recorded("POST", self.path, dict(self.headers.items()), body)
                )
            status = receiver._answer()
            payload = b"ok" if status < 400 else b"no_service"
            self.send_response(status)
            if status in (429, 503) and receiver.retry_after is not None:
                self.send_header("Retry-After", receiver.retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(receiver: Receiver) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.gate is not None:
            receiver.gate.set()
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_incident(
    number: int = 1,
    *,
    severity: Severity = Severity.HIGH,
    title: str = "PostgreSQL: no free connection slots",
    line: str = PG_LINE,
    history: IncidentHistory | None = None,
) -> Incident:
    """A diagnosed database incident; ``number`` makes its id and fingerprint distinct."""
    ref = LineRef("postgresql-15-main.log", 210 + number, 210 + number, line, T0)
    scores = dict.fromkeys(Domain, 0.0)
    scores[Domain.DATABASE] = 0.9
    diagnosis = Diagnosis(
        agent="database",
        title=title,
        root_cause="All connection slots were in use; a connection leak is most likely.",
        confidence=0.8,
        remediation=["Find who holds the connections.", "Fix the client's pool."],
        commands=["psql -c 'select count(*) from pg_stat_activity'"],
        references=["https://www.postgresql.org/docs/current/runtime-config-connection.html"],
        evidence=[ref],
        entry_ids=["postgresql-too-many-clients"],
    )
    return Incident(
        id=f"INC-{number:010x}",
        fingerprint=f"sig:postgresql-too-many-clients|svc:db{number}",
        title=title,
        severity=severity,
        score=0.9,
        signals=[],
        templates=[TemplateRef("t1", "FATAL: sorry, too many clients already", 19, line)],
        count=19,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=12),
        hosts=["db1"],
        services=["postgres"],
        sources=["postgresql-15-main.log"],
        lines=[ref],
        classification=Classification(scores, {Domain.DATABASE: ["signature"]}),
        diagnosis=diagnosis,
        history=history,
    )


def history(
    *, status: IncidentStatus, resolved: datetime | None, last_seen: datetime
) -> IncidentHistory:
    return IncidentHistory(
        times_seen=2,
        first_seen_at=T0,
        last_seen_at=last_seen,
        status=status,
        last_resolved_at=resolved,
    )

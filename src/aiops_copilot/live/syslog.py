"""A syslog receiver: UDP and TCP listeners that turn messages into records for a sink.

``SyslogServer("udp://127.0.0.1:5514", sink)`` or ``tcp://...`` (``[::1]`` for IPv6; port 0
picks a free one, :attr:`SyslogServer.bound_address` says which). It runs in background
threads between :meth:`~SyslogServer.start` and :meth:`~SyslogServer.stop`, so ``aiops watch``
and ``aiops serve`` can both run one beside their own work. Records are handed to ``sink`` in
batches (one call per datagram burst or TCP read); the sink must be thread-safe
(:meth:`LivePipeline.feed <aiops_copilot.live.pipeline.LivePipeline.feed>` is).

Bounds: a message keeps at most ``max_message_bytes`` (longer ones are cut and counted), at
most ``max_connections`` TCP clients are served at once (more are refused and counted), and
malformed messages (no valid ``<PRI>``, a broken octet count) are counted and skipped;
``on_malformed`` hears each count so the pipeline's parse-error metric includes them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from loguru import logger

from aiops_copilot.live.syslog_parse import Framer, parse_message
from aiops_copilot.models import LogRecord

Sink = Callable[[list[LogRecord]], object]
#: The largest UDP payload there is; a datagram is read whole, then cut to the limit.
_UDP_MAX = 65535
_POLL_SECONDS = 0.25


@dataclass(slots=True)
class SyslogStats:
    messages: int = 0
    records: int = 0
    malformed: int = 0
    oversize: int = 0
    connections: int = 0
    refused: int = 0


def parse_url(url: str) -> tuple[str, str, int]:
    """``udp://host:port`` or ``tcp://host:port`` -> (protocol, host, port); ValueError with
    the one line the user sees otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("udp", "tcp") or not parts.hostname:
        raise ValueError(f"syslog address must look like udp://HOST:PORT or tcp://HOST:PORT: {url}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"syslog address has a bad port: {url}") from None
    if port is None:
        raise ValueError(f"syslog address needs a port (e.g. udp://127.0.0.1:5514): {url}")
    return parts.scheme, parts.hostname, port


class SyslogServer:
    """Receives syslog over UDP or TCP in background threads; see the module doc."""

    def __init__(
        self,
        url: str,
        sink: Sink,
        *,
        max_message_bytes: int = 64 * 1024,
        max_connections: int = 256,
        batch_records: int = 500,
        on_malformed: Callable[[int], None] | None = None,
    ) -> None:
        self.protocol, self.host, self.port = parse_url(url)
        self.url = url
        self.sink = sink
        self.max_message_bytes = max(64, max_message_bytes)
        self.max_connections = max_connections
        self.batch_records = max(1, batch_records)
        self.on_malformed = on_malformed
        self.stats = SyslogStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socket: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()
        self._number = 0
        self._source: str | None = None

    @property
    def bound_address(self) -> tuple[str, int]:
        """(host, port) actually listened on (the port chosen when 0 was asked for)."""
        if self._socket is None:
            raise RuntimeError("the syslog server is not started")
        address = self._socket.getsockname()
        return str(address[0]), int(address[1])

    @property
    def source(self) -> str:
        """What records cite as their source: the listener, not each sender (senders are in
        ``host`` and the ``peer`` field)."""
        if self._source is None:
            host, port = self.bound_address if self._socket else (self.host, self.port)
            self._source = f"syslog+{self.protocol}://{_hostport(host, port)}"
        return self._source

    def start(self) -> None:
        """Bind and start receiving; OSError (port in use, no permission) comes out here."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        if self.protocol == "udp":
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                sock.bind((self.host, self.port))
            except OSError:
                sock.close()
                raise
            target: Callable[[], None] = self._serve_udp
        else:
            sock = socket.create_server((self.host, self.port), family=family, backlog=128)
            target = self._serve_tcp
        sock.settimeout(_POLL_SECONDS)
        self._socket = sock
        self._source = None
        self._start_thread(target, f"syslog-{self.protocol}")
        logger.info("syslog: receiving on {}", self.source)

    def stop(self) -> None:
        """Stop receiving, close every connection and wait for the threads (bounded)."""
        self._stop.set()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> SyslogServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- receiving ---------------------------------------------------------------------

    def _start_thread(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _serve_udp(self) -> None:
        sock = self._socket
        assert sock is not None
        while not self._stop.is_set():
            try:
                data, address = sock.recvfrom(_UDP_MAX)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            messages = [(data, address)]
            sock.setblocking(False)
            # Take what else is waiting: one sink call per burst, not per datagram.
            with contextlib.suppress(OSError):
                while len(messages) < self.batch_records:
                    messages.append(sock.recvfrom(_UDP_MAX))
            sock.settimeout(_POLL_SECONDS)
            frames = []
            oversize = 0
            for payload, peer in messages:
                if len(payload) > self.max_message_bytes:
                    payload = payload[: self.max_message_bytes]
                    oversize += 1
                frames.append((payload, str(peer[0])))
            self._deliver(frames, oversize=oversize)

    def _serve_tcp(self) -> None:
        sock = self._socket
        assert sock is not None
        while not self._stop.is_set():
            try:
                client, address = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            with self._lock:
                if len(self._clients) >= self.max_connections:
                    self.stats.refused += 1
                    client.close()
                    continue
                self._clients.add(client)
                self.stats.connections += 1
            self._start_thread(self._serve_client, "syslog-tcp", client, address)
            self._threads = [t for t in self._threads if t.is_alive()]

    def _serve_client(self, client: socket.socket, address: tuple[str, int]) -> None:
        peer = str(address[0])
        framer = Framer(self.max_message_bytes)
        client.settimeout(_POLL_SECONDS)
        seen = (0, 0)
        try:
            while not self._stop.is_set() and not framer.broken:
                try:
                    data = client.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                frames = framer.feed(data) if data else framer.close()
                counts = (framer.counts.oversize, framer.counts.malformed)
                self._deliver(
                    [(frame, peer) for frame in frames],
                    oversize=counts[0] - seen[0],
                    broken=counts[1] - seen[1],
                )
                seen = counts
                if not data:
                    break
            if framer.broken:
                logger.warning("syslog: {} sent a bad frame length; connection closed", peer)
        finally:
            with self._lock:
                self._clients.discard(client)
            client.close()

    def _deliver(
        self, frames: list[tuple[bytes, str]], *, oversize: int = 0, broken: int = 0
    ) -> None:
        records: list[LogRecord] = []
        malformed = broken
        source = self.source
        for payload, peer in frames:
            with self._lock:
                self._number += 1
                number = self._number
            record = parse_message(payload, peer=peer, source=source, number=number)
            if record is None:
                malformed += 1
            else:
                records.append(record)
        with self._lock:
            self.stats.messages += len(frames)
            self.stats.records += len(records)
            self.stats.malformed += malformed
            self.stats.oversize += oversize
        if malformed and self.on_malformed is not None:
            self.on_malformed(malformed)
        if records:
            try:
                self.sink(records)
            except Exception as exc:  # the receiver outlives a failing sink
                logger.warning("syslog: records not delivered: {}", exc)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

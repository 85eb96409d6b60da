"""Broker URLs: which broker, where, and which stream, in one string.

``nats://HOST:PORT/SUBJECT``, ``redis://HOST:PORT/STREAM`` and ``kafka://HOST:PORT/TOPIC``
(Kafka: several bootstrap servers as ``kafka://h1:9092,h2:9092/TOPIC``). Credentials go in
the usual place (``redis://:PASSWORD@host/stream``, ``nats://USER:PASS@host/subject``) and
are never shown. Options ride in the query: ``redis://host/logs?db=2``,
``nats://host/logs.>?stream=LOGS`` (the JetStream stream, when finding it from the subject
is not wanted), ``rediss://`` for Redis over TLS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

#: Scheme -> (broker, default port).
SCHEMES: dict[str, tuple[str, int]] = {
    "nats": ("nats", 4222),
    "tls": ("nats", 4222),
    "redis": ("redis", 6379),
    "rediss": ("redis", 6379),
    "kafka": ("kafka", 9092),
}
#: Query options each broker understands.
OPTIONS: dict[str, frozenset[str]] = {
    "nats": frozenset({"stream"}),
    "redis": frozenset({"db"}),
    "kafka": frozenset(),
}
_FORMS = "nats://HOST:PORT/SUBJECT, redis://HOST:PORT/STREAM or kafka://HOST:PORT/TOPIC"


@dataclass(frozen=True, slots=True)
class BrokerURL:
    """A parsed broker URL. ``name`` is the subject, stream key or topic."""

    scheme: str
    broker: str
    #: ``host:port`` pairs (Kafka may list several).
    hosts: tuple[tuple[str, int], ...]
    name: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> str:
        """The URL without its credentials: safe for logs and error lines."""
        hosts = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in self.hosts)
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{hosts}/{self.name}"

    @property
    def server(self) -> str:
        """The first host as ``scheme://host:port`` with credentials (for the client only)."""
        host, port = self.hosts[0]
        host = f"[{host}]" if ":" in host else host
        auth = ""
        if self.username or self.password:
            auth = f"{self.username or ''}:{self.password or ''}@"
        return f"{self.scheme}://{auth}{host}:{port}"


def parse_broker_url(text: str) -> BrokerURL:
    """Parse ``text``; ValueError, in one line saying what is wrong, when it is not one."""
    raw = text.strip()
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"{raw!r} is not a broker URL: use {_FORMS}")
    broker, default_port = SCHEMES[scheme]
    name = unquote(parts.path.lstrip("/"))
    if not name:
        what = {"nats": "subject", "redis": "stream", "kafka": "topic"}[broker]
        raise ValueError(f"{raw!r} names no {what}: use {_FORMS}")
    hosts = _hosts(parts.netloc.rpartition("@")[2], default_port, raw)
    if broker != "kafka" and len(hosts) > 1:
        raise ValueError(f"{raw!r}: only kafka:// takes several servers")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - OPTIONS[broker])
    if unknown:
        known = ", ".join(sorted(OPTIONS[broker])) or "none"
        raise ValueError(f"{raw!r}: unknown option {unknown[0]!r} (known: {known})")
    if "db" in options and not options["db"].isdigit():
        raise ValueError(f"{raw!r}: db must be a number")
    return BrokerURL(
        scheme=scheme,
        broker=broker,
        hosts=hosts,
        name=name,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        options=options,
    )


def _hosts(netloc: str, default_port: int, raw: str) -> tuple[tuple[str, int], ...]:
    if not netloc:
        return (("127.0.0.1", default_port),)
    hosts = []
    for item in netloc.split(","):
        host, port = _host_port(item.strip(), default_port, raw)
        hosts.append((host, port))
    return tuple(hosts)


def _host_port(item: str, default_port: int, raw: str) -> tuple[str, int]:
    if item.startswith("["):  # [::1]:4222
        host, _, rest = item[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif item.count(":") == 1:
        host, _, port_text = item.partition(":")
    else:
        host, port_text = item, ""
    if not host:
        raise ValueError(f"{raw!r}: a server has no host")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{raw!r}: {port_text!r} is not a port")
    return host, int(port_text)

"""The network fixer: proxies, load balancers, sockets, DNS and TLS.

Its extractors answer the questions a network engineer asks first: which peer (host:port,
upstream or backend name) failed, with which errno (refused, reset, timed out, unreachable),
in which phase (connect, read, TLS handshake, name resolution), what the clients saw (502, 503,
504) and, for TLS and DNS, the exact reason and name.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of, top
from aiops_copilot.models import Domain

#: errno name, number, and the ways logs spell it.
ERRNOS = (
    ("ECONNREFUSED", 111, r"ECONNREFUSED|Connection refused|\(111:|errno 111|connect: refused"),
    ("ECONNRESET", 104, r"ECONNRESET|reset by peer|\(104:|errno 104|connection reset"),
    ("ETIMEDOUT", 110, r"ETIMEDOUT|\(110:|errno 110|timed out|i/o timeout|TimeoutError|timeout"),
    ("EHOSTUNREACH", 113, r"EHOSTUNREACH|No route to host|\(113:|errno 113"),
    ("ENETUNREACH", 101, r"ENETUNREACH|Network is unreachable|\(101:|errno 101"),
    ("EPIPE", 32, r"EPIPE|Broken pipe|\(32:"),
)
_DNS = (
    r"could not be resolved|Temporary failure in name resolution|NXDOMAIN|"
    r"Name or service not known|EAI_AGAIN|ENOTFOUND|no such host|SERVFAIL|host not found|"
    r"Failed to resolve|"
    r"Could not resolve host|getaddrinfo|name resolution|wrong ident \d+ in DNS response"
)
_TLS = r"certificate|\bSSL\b|\bTLS\b|handshake|x509|PKIX"
_TLS_REASONS = (
    (
        "certificate expired",
        r"certificate has expired|certificate expired|CERT_HAS_EXPIRED|expired certificate",
    ),
    ("certificate not yet valid", r"certificate is not yet valid|CERT_NOT_YET_VALID"),
    (
        "hostname mismatch",
        r"hostname mismatch|doesn't match|does not match|IP address mismatch|not valid for|"
        r"ERR_TLS_CERT_ALTNAME_INVALID",
    ),
    ("self-signed certificate", r"self[- ]signed certificate|DEPTH_ZERO_SELF_SIGNED"),
    (
        "unknown CA",
        r"unknown ca|unable to get local issuer|unable to verify the first certificate|"
        r"PKIX path building failed|certificate signed by unknown authority|UNABLE_TO_GET_ISSUER",
    ),
    (
        "protocol mismatch",
        r"wrong version number|unsupported protocol|protocol version|no protocols available",
    ),
    ("no shared cipher", r"no shared cipher|no cipher match|sslv3 alert handshake failure"),
    (
        "client certificate required",
        r"certificate required|peer did not return a certificate|bad certificate",
    ),
)
_STATUS = r"(?:HTTP/\d(?:\.\d)?\"?\s+|\bstatus[=: ]+|\s)(5\d\d)(?=\s|$|,|\")"


def _errnos(ev: Evidence) -> Counter[str]:
    found: Counter[str] = Counter()
    for name, _, pattern in ERRNOS:
        if name == "ETIMEDOUT" and not ev.has(pattern):
            continue
        count = ev.count(pattern)
        if count:
            found[name] = count
    # A DNS timeout is a resolver problem, not a TCP timeout to the peer.
    if found.get("ETIMEDOUT") and ev.count(_DNS) >= found["ETIMEDOUT"]:
        del found["ETIMEDOUT"]
    return found


def _joined(host: str | None, port: str | None) -> str | None:
    return f"{host}:{port}" if host and port else None


def _peer(ev: Evidence) -> str | None:
    host = ev.first(r"\"address\"\s*:\s*\"([^\"]+)\"")
    port = ev.first(r"\"port\"\s*:\s*(\d+)")
    return first_of(
        ev.first(r"upstream: \"\w+://([^/\"]+)"),
        ev.first(r"\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)\s+([\w.-]+:\d+)"),
        _joined(host, port),
        ev.first(r"(?:connect(?:ing)? to|connection to|to host|dial tcp)\s+\"?([\w.-]+:\d{2,5})"),
        _joined(ev.first(r"host='([\w.-]+)', port=\d+"), ev.first(r"host='[\w.-]+', port=(\d+)")),
        ev.first(r"\bserver:\s*([\d.]+:\d+)"),
    )


@register(Domain.NETWORK)
class NetworkFixer(SpecialistFixer):
    domain = Domain.NETWORK
    name = "network-fixer"
    software = frozenset(
        {
            "nginx",
            "apache",
            "haproxy",
            "envoy",
            "linux",
            "openssl",
            "tls",
            "dns",
            "bind9",
            "coredns",
            "dnsmasq",
            "systemd-resolved",
        }
    )
    formats = frozenset({"nginx_error", "access_combined", "access_common", "apache_error"})
    keywords = (
        r"connection refused|ECONNREFUSED|\(111:",
        r"reset by peer|ECONNRESET|\(104:",
        r"upstream timed out|\(110:|ETIMEDOUT|timed out",
        r"No route to host|unreachable",
        r"no server available|is DOWN|no live upstreams|no healthy upstream",
        _DNS,
        r"certificate|SSL_do_handshake|handshake",
        r"upstream|backend|(?<![\d,.:])50[234](?!\d|\.\d)",
    )
    defer = (
        r"Too many open files|No space left on device|Address already in use",
        r"OutOfMemoryError|Traceback|panic:|Exception",
    )

    def extract(self, ev: Evidence) -> dict[str, Any]:
        errnos = _errnos(ev)
        peer = _peer(ev)
        statuses = ev.tally(_STATUS)
        facts: dict[str, Any] = {
            "peer": peer,
            "port": peer.rsplit(":", 1)[1] if peer and ":" in peer else None,
            "upstream_url": ev.first(r"upstream: \"(\w+://[^\"]+)\""),
            "upstream": first_of(
                ev.first(r"\b([a-z][\w-]*) (?:request|call|fetch|api call|connection) failed"),
                ev.first(r"backend '?([\w.-]+)'? has no server available"),
                ev.first(r"upstream \"([\w.-]+)\""),
                ev.first(r"\b(?:Server|server) ([\w.-]+)/[\w.-]+ is DOWN"),
            ),
            "errno": errnos.most_common(1)[0][0] if errnos else None,
            "errnos": dict(errnos) or None,
            "refused": errnos.get("ECONNREFUSED"),
            "resets": errnos.get("ECONNRESET"),
            "timeouts": errnos.get("ETIMEDOUT"),
            "unreachable": (errnos.get("EHOSTUNREACH") or 0) + (errnos.get("ENETUNREACH") or 0)
            or None,
            "phase": first_of(
                "connect"
                if ev.has(r"while connecting to upstream|connect\(\) failed|syscall\":\"connect")
                else None,
                "read"
                if ev.has(r"while reading (?:response header|upstream)|Read timed out|recv\(\)")
                else None,
                "TLS handshake"
                if ev.has(r"SSL_do_handshake|while SSL handshaking|handshake")
                else None,
            ),
            "http_5xx": sum(statuses.values()) or None,
            "http_errors": ", ".join(f"{n} × {s}" for s, n in statuses.most_common(3)) or None,
            "paths": top(
                ev.tally(r"(?:request: \"|\")(?:GET|POST|PUT|DELETE|PATCH|HEAD) ([^\s?\"]+)"), 3
            )
            or top(ev.tally(r"^(?:GET|POST|PUT|DELETE|PATCH|HEAD) ([^\s?]+)"), 3)
            or None,
            "attempts": max(ev.numbers(r"attempt\"?[:= ]\s*(\d+)"), default=None),
        }
        upstream, peer_ = facts["upstream"], facts["peer"]
        facts["target"] = (
            f"{upstream} at {peer_}"
            if upstream and peer_
            else (upstream or peer_ or "the upstream")
        )
        paths = ev.tally(r"(?:request: \"|^)(?:GET|POST|PUT|DELETE|PATCH|HEAD) ([^\s?\"]+)")
        if paths:
            path, count = paths.most_common(1)[0]
            if count >= 0.8 * sum(paths.values()):
                facts["slow_path"] = path
        # Load-balancer health checks.
        down = ev.distinct(r"Server ([\w.-]+/[\w.-]+) is DOWN")
        facts["down_servers"] = down or None
        facts["backend"] = first_of(
            ev.first(r"backend '?([\w.-]+)'? has no server available"),
            down[0].split("/")[0] if down else None,
        )
        facts["check_reason"] = ev.first(r"is DOWN, reason: ([^,]+)")
        facts["check_info"] = ev.first(r"is DOWN, reason: [^,]+, info: \"([^\"]+)\"")
        # DNS.
        if ev.has(_DNS):
            facts["dns_name"] = first_of(
                ev.first(r"([\w.-]+\.[a-z][\w-]*) could not be resolved"),
                ev.first(r"(?:ENOTFOUND|EAI_AGAIN)\s+([\w.-]+)"),
                ev.first(r"Failed to resolve '([^']+)'"),
                ev.first(r"lookup ([\w.-]+)"),
                ev.first(r"host not found in upstream \"([^\"]+)\""),
                ev.first(r"Could not resolve host:?\s*([\w.-]+)"),
                ev.first(r"DNS response for ([\w.-]+)"),
            )
            facts["dns_error"] = first_of(
                ev.first(r"could not be resolved \((\d+: [^)]+)\)"),
                ev.first(r"\b(NXDOMAIN|SERVFAIL|EAI_AGAIN|ENOTFOUND|no such host|i/o timeout)\b"),
                ev.first(r"(Temporary failure in name resolution|Name or service not known)"),
            )
            facts["resolver"] = first_of(
                ev.first(r"resolver(?: at)?\s+([\d.]+(?::\d+)?)"),
                ev.first(r"lookup [\w.-]+ on ([\d.]+:\d+)"),
            )
            facts["late_dns_answers"] = ev.count(r"wrong ident \d+ in DNS response") or None
        # TLS.
        if ev.has(_TLS):
            for reason, pattern in _TLS_REASONS:
                if ev.has(pattern):
                    facts["tls_reason"] = reason
                    facts["tls_failures"] = ev.count(pattern)
                    break
            facts["tls_peer"] = first_of(
                ev.first(r"https://([^/\s'\"]+)"),
                ev.first(r"\bserver:\s*([\w.:-]+)"),
                peer,
            )
            facts["tls_client"] = first_of(
                ev.first(r"\b([a-z][\w-]*) fetch failed"),
                ev.first(r"\b([a-z][\w-]+-worker)\b"),
            )
        return facts

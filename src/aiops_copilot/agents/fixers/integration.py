"""The integration fixer: calls between services and to third parties, brokers and tokens.

Its extractors collect what an integration engineer needs to open a ticket with the other side:
the external endpoint (URL, host, gRPC method, broker and vhost), the status codes and how many
requests got each, the retries spent, rate-limit signals (429, Retry-After, X-RateLimit-*,
limit_req zones), gRPC status codes and details, broker entities (exchange, queue, vhost, user,
the AMQP reply code), schema mismatches (a missing field, HTML where JSON was expected), OAuth
error codes, and payload sizes against a body limit.
"""

from __future__ import annotations

from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of
from aiops_copilot.models import Domain

_REASONS = {
    "400": "Bad Request",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "Not Found",
    "408": "Request Timeout",
    "409": "Conflict",
    "413": "Request Entity Too Large",
    "422": "Unprocessable Entity",
    "429": "Too Many Requests",
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "504": "Gateway Timeout",
}
#: Status codes in access logs ("GET /x HTTP/1.1 503"), client messages and urllib3 retries.
_STATUS = r"(?:HTTP/\d(?:\.\d)?\"?\s+|\bHTTP |\bstatus[=: ]+|returned HTTP |too many )([45]\d\d)\b"
_AMQP = r"\((\d{3})\):?\s*\"?([A-Z_]{6,})\s*-\s*([^\n\"]{1,200})"


@register(Domain.INTEGRATION)
class IntegrationFixer(SpecialistFixer):
    domain = Domain.INTEGRATION
    name = "integration-fixer"
    software = frozenset(
        {
            "grpc",
            "http-api",
            "requests",
            "urllib3",
            "httpx",
            "axios",
            "node-fetch",
            "nodejs",
            "java",
            "oauth2",
            "rabbitmq",
            "kafka",
            "webhook",
            "aws-sdk",
            "azure-sdk",
            "google-cloud",
            "docker-registry",
            "nats",
        }
    )
    formats = frozenset()
    keywords = (
        r"StatusCode\.[A-Z_]+|grpc",
        r"Max retries exceeded|retries exhausted|retrying",
        r"(?<![\d,.:])429(?!\d|\.\d)|Too Many Requests|rate limit|limiting requests|Throttl",
        r"AMQP|Channel\.Close|PRECONDITION_FAILED|NOT_FOUND|ACCESS_REFUSED|vhost",
        r"Slow Consumer|nats|kafka",
        r"invalid_grant|invalid_token|invalid_client|refresh token",
        r"missing (?:required )?field|JSONDecodeError|Expecting value|text/html|schema",
        r"(?<![\d,.:])413(?!\d|\.\d)|too large body|Request Entity Too Large",
        r"partner|webhook|third-party|upstream API",
    )
    defer = (
        r"Too many open files|No space left on device|Address already in use",
        r"Failed password|Invalid user",
        r"connect\(\) failed \(111|could not be resolved|certificate verify failed",
    )

    def extract(self, ev: Evidence) -> dict[str, Any]:
        statuses = ev.tally(_STATUS)
        top_status = statuses.most_common(1)[0][0] if statuses else None
        facts: dict[str, Any] = {
            "status": top_status,
            "status_reason": _REASONS.get(top_status or ""),
            "status_count": statuses.most_common(1)[0][1] if statuses else None,
            "statuses": ", ".join(f"{n} × {s}" for s, n in statuses.most_common(4)) or None,
            "endpoint": first_of(
                ev.first(r"https?://[^\s'\"<>)]+"),
                _hostport_url(ev),
                ev.first(r"\b((?:[a-z]\w*\.)+v\d+\.[A-Z]\w*/[A-Z]\w*)"),
                ev.first(r"(?:GET|POST|PUT|DELETE|PATCH) (/[^\s\"]+)"),
            ),
            "client": first_of(
                ev.first(r"\b([a-z][\w-]+)/\d+\.\d+(?:\.\d+)? python-requests"),
                next((s for s in ev.incident.services if s and s[:1].isalpha()), None),
            ),
            "retry_failures": ev.count(r"Max retries exceeded|retries exhausted|giving up|gave up")
            or None,
            "retry_attempts": first_of(
                ev.first(r"attempt (\d+/\d+)"), ev.first(r"after (\d+) (?:retries|attempts)")
            ),
            "retry_after": ev.first(r"Retry-After[\"']?[:=]\s*[\"']?(\d+)"),
            "rate_limit_headers": ev.distinct(r"(X-RateLimit-[\w-]+[\"']?[:=]\s*[\"']?[\w.]+)")[:3]
            or None,
            "rate_zone": ev.first(r"limiting requests, excess: [\d.]+ by zone \"([^\"]+)\""),
            "rate_limited": ev.count(
                r"(?<![\d,.:])429(?!\d|\.\d)|Too Many Requests|"
                r"rate limit(?:ed)?|limiting requests|Throttl"
            )
            or None,
            "maintenance": ev.has(r"maintenance|failover|read-only|scheduled downtime") or None,
        }
        # gRPC.
        grpc = ev.tally(r"StatusCode\.([A-Z_]+)")
        if grpc:
            code, count = grpc.most_common(1)[0]
            facts["grpc_status"] = code
            facts["grpc_failures"] = count
            facts["grpc_method"] = ev.first(r"\b((?:[a-z]\w*\.)+[A-Z]\w*/[A-Z]\w*)")
            facts["grpc_details"] = ev.first(r"details='([^']+)'")
            latency = ev.numbers(r"after (\d+) ms: status=StatusCode")
            facts["grpc_latency_ms"] = int(max(latency)) if latency else None
            facts["grpc_api_version"] = ev.first(r"\b(?:[a-z]\w*\.)+(v\d+)\.[A-Z]\w*/")
            workers = ev.distinct(r"\b(grpc-worker_\d+|ThreadPoolExecutor-\d+_\d+)")
            facts["server_workers"] = len(workers) or None
            facts["late_on_entry"] = (
                ev.count(r"deadline had \d+ ms left on entry|already cancelled") or None
            )
        # Message brokers.
        amqp = [m for m, _ in ev.matches(_AMQP)]
        if amqp:
            facts["amqp_code"] = amqp[0].group(1)
            facts["amqp_error"] = amqp[0].group(2)
            facts["amqp_text"] = amqp[0].group(3).strip()
        facts["broker"] = first_of(
            "RabbitMQ" if ev.has(r"AMQP|pika|rabbit|vhost|Channel\.Close") else None,
            "Kafka" if ev.has(r"kafka|KafkaError") else None,
            "NATS" if ev.has(r"\bnats\b|Slow Consumer") else None,
        )
        facts["vhost"] = first_of(ev.first(r"vhost[:=]?\s*'([^']+)'"), ev.first(r"vhost=(\S+)"))
        facts["exchange"] = ev.first(r"exchange '([^']+)'")
        facts["queue"] = ev.first(r"queue '([^']+)'")
        facts["broker_user"] = first_of(
            ev.first(r"login refused: user '([^']+)'"), ev.first(r"user[:=]\s*'([^']+)'")
        )
        facts["broker_operation"] = ev.first(r"operation ([\w.]+) caused a channel exception")
        facts["broker_arg"] = ev.first(r"inequivalent arg '([^']+)'")
        facts["access_refused"] = (
            ev.count(r"ACCESS_REFUSED|login refused|ProbableAuthenticationError") or None
        )
        facts["slow_consumer"] = ev.count(r"Slow Consumer Detected") or None
        facts["slow_client"] = ev.first(r"\"([^\"]+)\" - Slow Consumer Detected")
        facts["write_deadline"] = ev.first(r"WriteDeadline of (\S+) exceeded")
        facts["disconnects"] = (
            ev.count(r"disconnected from|unexpected EOF|connection closed") or None
        )
        # Schema and content.
        facts["missing_field"] = first_of(
            ev.first(r"missing (?:required )?field '([^']+)'"),
            ev.first(r"missing (?:required )?field \"([^\"]+)\""),
        )
        facts["schema_version"] = first_of(
            ev.first(r"\"schema\"\s*:\s*\"([^\"]+)\""), ev.first(r"schema[= ]([\w.-]+\.v\d+)")
        )
        facts["content_type"] = ev.first(r"Content-Type[=:]\s*([\w/.+-]+)")
        facts["decode_errors"] = (
            ev.count(
                r"JSONDecodeError|Expecting value|cannot decode|is not valid JSON|"
                r"Unexpected token <"
            )
            or None
        )
        facts["decode_status"] = ev.first(r"cannot decode[^\n]*\(HTTP (\d{3})")
        # OAuth.
        facts["oauth_error"] = first_of(
            ev.first(
                r"error=\"?(invalid_grant|invalid_client|invalid_token|unauthorized_client|invalid_scope)"
            ),
            ev.first(r"\b(invalid_grant|invalid_client|invalid_token)\b"),
        )
        facts["oauth_descriptions"] = ev.distinct(r"error_description='([^']+)'")[:3] or None
        facts["oauth_failures"] = (
            ev.count(r"invalid_grant|token refresh failed|grant rejected") or None
        )
        facts["token_reuse"] = (
            ev.has(r"reuse detected|already been used|already used|already rotated") or None
        )
        # Payload size.
        facts["payload_rejections"] = (
            ev.count(r"(?<![\d,.:])413(?!\d|\.\d)|Request Entity Too Large|too large body") or None
        )
        sizes = ev.numbers(r"(?:too large body: |events, )(\d+) bytes")
        facts["max_body_bytes"] = int(max(sizes)) if sizes else None
        batch = ev.numbers(r"\((\d+) events")
        facts["batch_events"] = int(max(batch)) if batch else None
        facts["body_limit"] = ev.first(r"client_max_body_size\s+(\S+?);?")
        return facts


def _hostport_url(ev: Evidence) -> str | None:
    host = ev.first(r"host='([\w.-]+)', port=\d+")
    port = ev.first(r"host='[\w.-]+', port=(\d+)")
    url = ev.first(r"with url: (\S+)")
    if host and port:
        return f"{host}:{port}{url or ''}"
    return None

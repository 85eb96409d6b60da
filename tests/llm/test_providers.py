"""Contract tests for the LLM providers against a real HTTP server process on 127.0.0.1.

Why a subprocess and real sockets: timeouts, HTTP status codes, Retry-After headers and broken
bodies are exactly what mocks get wrong. ``fake_llm_server.py`` records each request, so the
tests assert on what actually went over the wire.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from aiops_copilot.llm.providers import (
    OllamaProvider,
    OpenAIProvider,
    Provider,
    ProviderError,
    ProviderStatus,
    RetryPolicy,
    _parse_retry_after,
)
from aiops_copilot.llm.redact import Redactor
from aiops_copilot.llm.sealed import SealedRequest, seal
from llm.fake_llm_server import sample_from_schema
from llm.llm_support import CHAT_PATH, FakeServer, free_port

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "severity": {"type": "string", "enum": ["critical", "high", "low"]},
        "confidence": {"type": "number", "minimum": 0.25},
        "evidence": {"type": "array", "items": {"$ref": "#/$defs/cite"}},
        "root_cause_known": {"type": "boolean"},
    },
    "required": ["summary", "severity", "confidence", "evidence", "root_cause_known"],
    "$defs": {"cite": {"type": "object", "properties": {"line": {"type": "integer"}}}},
}
EXPECTED_ANSWER = {
    "summary": "sample",
    "severity": "critical",
    "confidence": 0.25,
    "evidence": [{"line": 1}],
    "root_cause_known": True,
}
MESSAGES = [
    {"role": "system", "content": "You diagnose incidents from an evidence pack."},
    {"role": "user", "content": "Evidence: ..."},
]


def sealed() -> SealedRequest:
    """The test messages through the gate, as every provider request must be."""
    return seal(Redactor(), MESSAGES, SCHEMA)


class SleepRecorder:
    """Stands in for time.sleep so backoff is observable and tests stay fast."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make(kind: str, url: str, *, attempts: int = 3, sleep: SleepRecorder | None = None) -> Any:
    retry = RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=2.0)
    sleeper = sleep or SleepRecorder()
    if kind == "ollama":
        return OllamaProvider(url, "qwen2.5:3b", retry=retry, timeout=5, sleep=sleeper)
    return OpenAIProvider(
        url, "qwen2.5:3b", api_key_env="AIOPS_TEST_KEY", retry=retry, timeout=5, sleep=sleeper
    )


KINDS = ["ollama", "openai"]


def requested_schema(kind: str, body: dict[str, Any]) -> Any:
    if kind == "ollama":
        return body["format"]
    assert body["response_format"]["type"] == "json_schema"
    return body["response_format"]["json_schema"]["schema"]


@pytest.mark.parametrize("kind", KINDS)
def test_structured_output_requested_and_answer_parsed(fake: FakeServer, kind: str) -> None:
    provider = make(kind, fake.url)
    answer = provider.chat(sealed(), timeout=5)
    assert answer == EXPECTED_ANSWER
    [request] = fake.requests()
    assert request["method"] == "POST"
    assert request["path"] == CHAT_PATH[kind]
    body = request["body"]
    assert requested_schema(kind, body) == SCHEMA
    assert body["model"] == "qwen2.5:3b"
    assert body["messages"] == MESSAGES
    assert body["stream"] is False


def test_openai_url_with_v1_suffix_is_not_doubled(fake: FakeServer) -> None:
    provider = make("openai", fake.url + "/v1/")
    assert provider.chat(sealed(), timeout=5) == EXPECTED_ANSWER
    assert [r["path"] for r in fake.requests()] == ["/v1/chat/completions"]


def test_openai_sends_api_key_from_env(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_TEST_KEY", "sk-test-123")
    make("openai", fake.url).chat(sealed(), timeout=5)
    assert fake.requests()[0]["authorization"] == "Bearer sk-test-123"


def test_openai_without_key_sends_no_authorization(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIOPS_TEST_KEY", raising=False)
    make("openai", fake.url).chat(sealed(), timeout=5)
    assert fake.requests()[0]["authorization"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_429_then_ok_is_retried_honouring_retry_after(fake: FakeServer, kind: str) -> None:
    fake.set_mode("429_then_ok")
    sleep = SleepRecorder()
    answer = make(kind, fake.url, sleep=sleep).chat(sealed(), timeout=5)
    assert answer == EXPECTED_ANSWER
    assert [r["path"] for r in fake.requests()] == [CHAT_PATH[kind]] * 2
    assert sleep.delays == [1.0]  # the server said Retry-After: 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("attempts", [1, 3])
def test_500_fails_after_max_attempts(fake: FakeServer, kind: str, attempts: int) -> None:
    fake.set_mode("500")
    sleep = SleepRecorder()
    with pytest.raises(ProviderError) as info:
        make(kind, fake.url, attempts=attempts, sleep=sleep).chat(sealed(), timeout=5)
    message = str(info.value)
    assert "HTTP 500" in message
    assert "\n" not in message
    assert len(fake.requests()) == attempts
    assert len(sleep.delays) == attempts - 1
    assert sleep.delays == sorted(sleep.delays)  # backoff grows


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("mode", "fragment"),
    [("garbage", "non-JSON body"), ("bad_content", "non-JSON content")],
)
def test_garbage_is_one_error_not_retried(
    fake: FakeServer, kind: str, mode: str, fragment: str
) -> None:
    fake.set_mode(mode)
    with pytest.raises(ProviderError, match=fragment) as info:
        make(kind, fake.url).chat(sealed(), timeout=5)
    assert "\n" not in str(info.value)
    assert len(fake.requests()) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_hang_becomes_timeout_error_within_budget(fake: FakeServer, kind: str) -> None:
    fake.set_mode("hang", hang=20)
    provider = make(kind, fake.url, attempts=2)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"timed out after 0\.3s") as info:
        provider.chat(sealed(), timeout=0.3)
    # Generous bound: far below the server's 20 s stall, i.e. the client gave up on its own.
    assert time.monotonic() - started < 10
    assert "after 2 attempts" in str(info.value)
    assert len(fake.requests()) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_models_listing(fake: FakeServer, kind: str) -> None:
    assert make(kind, fake.url).models() == ["tiny-test:0.5b", "qwen2.5:3b"]
    path = {"ollama": "/api/tags", "openai": "/v1/models"}[kind]
    assert [r["path"] for r in fake.requests()] == [path]


@pytest.mark.parametrize("kind", KINDS)
def test_check_reports_models_and_latency(fake: FakeServer, kind: str) -> None:
    status = make(kind, fake.url).check()
    assert status.ok, status.error
    assert status.error is None
    assert "qwen2.5:3b" in status.models
    assert status.latency_ms is not None and status.latency_ms > 0
    chat = [r for r in fake.requests() if r["method"] == "POST"]
    assert len(chat) == 1  # one tiny schema-constrained request


def test_check_reports_missing_model(fake: FakeServer) -> None:
    provider = OllamaProvider(fake.url, "llama3:8b", retry=RetryPolicy(max_attempts=1))
    status = provider.check()
    assert not status.ok
    assert status.error is not None and "llama3:8b" in status.error
    assert status.models == ["tiny-test:0.5b", "qwen2.5:3b"]


def test_ollama_model_without_tag_matches_latest(fake: FakeServer) -> None:
    assert OllamaProvider(fake.url, "x")._has_model(["x:latest"])


@pytest.mark.parametrize("kind", KINDS)
def test_dead_server_is_one_line_error_and_check_never_raises(kind: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    sleep = SleepRecorder()
    provider = make(kind, url, attempts=2, sleep=sleep)
    with pytest.raises(ProviderError, match="unreachable") as info:
        provider.chat(sealed(), timeout=1)
    assert "\n" not in str(info.value)
    assert len(sleep.delays) == 1
    status = provider.check()
    assert isinstance(status, ProviderStatus)
    assert not status.ok and status.latency_ms is None
    assert status.error is not None and "\n" not in status.error


def test_providers_satisfy_the_protocol() -> None:
    assert isinstance(OllamaProvider(), Provider)
    assert isinstance(OpenAIProvider("http://127.0.0.1:1", "m"), Provider)


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected_min", "expected_max"),
    [
        (1, None, 0.5, 0.5 * 1.25),
        (2, None, 1.0, 1.25),
        (3, None, 2.0, 2.5),
        (10, None, 8.0, 8.0),  # capped
        (1, 3.0, 3.0, 3.0),  # Retry-After wins
        (1, 120.0, 8.0, 8.0),  # ... but is capped too
    ],
)
def test_backoff_policy(
    attempt: int, retry_after: float | None, expected_min: float, expected_max: float
) -> None:
    delay = RetryPolicy().delay(attempt, retry_after)
    assert expected_min <= delay <= expected_max


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("2", 2.0),
        ("-4", 0.0),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert _parse_retry_after(header) == expected


def test_fake_server_builds_answers_from_schema() -> None:
    assert sample_from_schema(SCHEMA) == EXPECTED_ANSWER
    assert sample_from_schema({"type": ["null", "integer"], "minimum": 3}) == 3
    assert sample_from_schema({"anyOf": [{"const": "x"}, {"type": "integer"}]}) == "x"


@pytest.mark.parametrize("kind", KINDS)
def test_client_error_is_not_retried(fake: FakeServer, kind: str) -> None:
    sleep = SleepRecorder()
    provider = make(kind, fake.url + "/wrong-prefix", sleep=sleep)
    with pytest.raises(ProviderError, match="HTTP 404"):
        provider.chat(sealed(), timeout=5)
    assert len(fake.requests()) == 1
    assert sleep.delays == []


def test_api_key_never_appears_in_errors(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIOPS_TEST_KEY", "sk-secret-987")
    fake.set_mode("500")
    provider = make("openai", fake.url, attempts=1)
    with pytest.raises(ProviderError) as info:
        provider.chat(sealed(), timeout=5)
    assert "sk-secret-987" not in str(info.value)
    assert "sk-secret-987" not in (provider.check().error or "")

"""The one egress gate: no provider call path can send a string that skipped redaction.

Two kinds of proof. Structural: every public method of every provider class is called with
raw, secret-laden input and must refuse it before a socket opens (the server records nothing);
a ``SealedRequest`` cannot be made or changed except by ``seal``; the public surface of each
class is pinned, so a new method fails here until someone decides how it is gated. Observed:
every path that does send -- the gated provider, ``check``, the assistant -- is exercised with
planted secrets, and the server's record of the wire holds placeholders, never the values.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.config import LlmSettings
from aiops_copilot.llm.answer import answer_schema
from aiops_copilot.llm.assist import Assistant, AssistLimits
from aiops_copilot.llm.gate import GatedProvider, open_provider
from aiops_copilot.llm.llamacpp import LlamaCppProvider
from aiops_copilot.llm.providers import OllamaProvider, OpenAIProvider, check_request
from aiops_copilot.llm.redact import Redactor
from aiops_copilot.llm.sealed import SealedRequest, UnsealedRequestError, seal
from llm.llm_support import PLANTED, PLANTED_KINDS, FakeServer, analyse, planted_log

SECRET_TEXT = planted_log()  # every planted value, in the lines a real log would carry
RAW_MESSAGES = [{"role": "user", "content": SECRET_TEXT}]
PROVIDER_CLASSES = [OllamaProvider, OpenAIProvider, LlamaCppProvider]
#: Every public method a provider class has. A new one must be gated and added here.
PROVIDER_SURFACE = {"chat", "models", "check"}
GATED_SURFACE = {"seal", "restore", "ask", "send", "remember", "models", "check"}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and callable(member) and not isinstance(member, type)
    }


def raw_provider(cls: type, url: str) -> Any:
    if cls is OllamaProvider:
        return OllamaProvider(url, "qwen2.5:3b")
    if cls is OpenAIProvider:
        return OpenAIProvider(url, "qwen2.5:3b", api_key_env=None)
    # Without the optional extra or a model file there is no constructor to call; chat's
    # refusal comes first in the method, before any model is loaded.
    provider = object.__new__(LlamaCppProvider)
    provider.model = "none.gguf"
    return provider


def assert_no_planted_value(wire: str) -> None:
    leaked = [kind for kind, value in PLANTED.items() if value in wire]
    assert leaked == [], f"planted values reached the wire: {leaked}"


@pytest.mark.parametrize("cls", PROVIDER_CLASSES, ids=lambda c: c.__name__)
def test_provider_surface_is_pinned(cls: type) -> None:
    assert public_methods(cls) == PROVIDER_SURFACE


def test_gated_provider_surface_is_pinned() -> None:
    assert public_methods(GatedProvider) == GATED_SURFACE


class LookAlike:
    """Has everything a SealedRequest has, except having passed the gate."""

    messages_json = '[{"role": "user", "content": "x"}]'
    schema_json = "{}"
    redactions = ()

    def messages(self) -> list[dict[str, Any]]:
        return list(RAW_MESSAGES)

    def schema(self) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize("cls", PROVIDER_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("request_", [RAW_MESSAGES, LookAlike(), SECRET_TEXT], ids=type)
def test_every_provider_refuses_what_the_gate_did_not_seal(
    fake: FakeServer, cls: type, request_: Any
) -> None:
    provider = raw_provider(cls, fake.url)
    for name in PROVIDER_SURFACE:
        method = getattr(provider, name)
        if "request" in inspect.signature(method).parameters:
            with pytest.raises(UnsealedRequestError):
                method(request_, timeout=5)
    assert fake.requests() == []


def test_a_sealed_request_cannot_be_forged_or_changed() -> None:
    with pytest.raises(UnsealedRequestError):
        SealedRequest("[]", "{}", ())
    with pytest.raises(UnsealedRequestError):
        SealedRequest("[]", "{}", (), object())
    sealed = seal(Redactor(), RAW_MESSAGES, {"type": "object"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        sealed.messages_json = '[{"role": "user", "content": "leak"}]'  # type: ignore[misc]
    copy_ = sealed.messages()
    copy_[0]["content"] = SECRET_TEXT
    assert_no_planted_value(sealed.messages_json)
    assert "<SECRET_1>" in sealed.messages_json and "<KEY_1>" in sealed.messages_json


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_every_sending_path_puts_only_placeholders_on_the_wire(
    fake: FakeServer, kind: str, tmp_path: Path
) -> None:
    fake.set_mode("diagnose")
    settings = LlmSettings(provider=kind, url=fake.url, model="qwen2.5:3b", retries=1)
    gated = open_provider(settings)
    assert isinstance(gated, GatedProvider)
    # 1. The gated provider's own paths.
    gated.ask(RAW_MESSAGES, {"type": "object"}, permit=lambda: 5.0)
    sealed = gated.seal(RAW_MESSAGES, answer_schema())
    gated.send(sealed, permit=lambda: 5.0)
    assert gated.check().ok
    assert gated.models()
    # 2. The raw providers' own paths that send (check's tiny request is sealed too).
    for cls in (OllamaProvider, OpenAIProvider):
        assert raw_provider(cls, fake.url).check().ok
    # 3. The assistant over incidents from a log full of planted secrets.
    log = tmp_path / "app.log"
    log.write_text(planted_log(), encoding="utf-8")
    result, kb = analyse(log)
    assert result.incidents
    helper = Assistant(open_provider(settings), AssistLimits())
    assert helper.refine(copy.deepcopy(result.incidents), kb).requests >= 1
    # What reached the server: no planted value, and a placeholder of every planted kind.
    wire = fake.wire_text()
    assert_no_planted_value(wire)
    for kind_name in PLANTED_KINDS:
        assert re.search(rf"<{kind_name}_[0-9]+>", wire), kind_name
    assert len(fake.chats()) >= 6


def test_the_assistant_holds_no_raw_provider(fake: FakeServer) -> None:
    settings = LlmSettings(provider="ollama", url=fake.url)
    helper = Assistant(open_provider(settings))
    assert isinstance(helper.provider, GatedProvider)
    raw = (OllamaProvider, OpenAIProvider, LlamaCppProvider)
    assert not any(isinstance(value, raw) for value in vars(helper).values())
    # The gated provider keeps its raw provider in one private, name-mangled slot.
    holders = [k for k, v in vars(helper.provider).items() if isinstance(v, raw)]
    assert holders == ["_GatedProvider__raw"]


def test_check_request_passes_the_gate() -> None:
    request = check_request()
    assert isinstance(request, SealedRequest)
    assert request.schema()["required"] == ["ok"]

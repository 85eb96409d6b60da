"""The embedded provider: a GGUF file through llama-cpp-python (the optional ``llamacpp`` extra).

The real-model tests need the extra and a model file named by ``AIOPS_TEST_GGUF`` (any small
GGUF chat model; docs/llm.md says which one was used here) and are skipped otherwise. The
start-up checks run everywhere: a missing extra, file or a file that is not GGUF is a
one-line ``LlmSetupError``, before any log is read.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path

import pytest

from aiops_copilot.config import LlmSettings
from aiops_copilot.llm.assist import Assistant, AssistLimits
from aiops_copilot.llm.gate import open_provider
from aiops_copilot.llm.llamacpp import LlamaCppProvider
from aiops_copilot.llm.providers import LlmSetupError
from aiops_copilot.llm.redact import Redactor
from aiops_copilot.llm.sealed import seal
from llm.llm_support import EXAMPLES, analyse

HAS_EXTRA = importlib.util.find_spec("llama_cpp") is not None
GGUF = os.environ.get("AIOPS_TEST_GGUF", "")

needs_model = pytest.mark.skipif(
    not (HAS_EXTRA and GGUF and Path(GGUF).is_file()),
    reason="needs the llamacpp extra (pip install 'aiops-copilot[llamacpp]') and a GGUF "
    "model file named by AIOPS_TEST_GGUF",
)


def test_missing_extra_or_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(LlmSetupError) as info:
        LlamaCppProvider(tmp_path / "absent.gguf")
    expected = "GGUF model file not found" if HAS_EXTRA else "needs the llamacpp extra"
    assert expected in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(not HAS_EXTRA, reason="needs the llamacpp extra")
def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(LlmSetupError, match="is not a GGUF model file"):
        LlamaCppProvider(fake)


@needs_model
def test_a_real_model_answers_in_the_schema() -> None:
    provider = LlamaCppProvider(Path(GGUF), context_tokens=2048)
    status = provider.check()
    assert status.ok, status.error
    assert status.models == [Path(GGUF).name] and status.latency_ms
    schema = {
        "type": "object",
        "properties": {
            "domain": {"type": "string", "enum": ["database", "infrastructure"]},
            "full": {"type": "boolean"},
        },
        "required": ["domain", "full"],
        "additionalProperties": False,
    }
    request = seal(
        Redactor(),
        [{"role": "user", "content": "The disk /var is 100% full. Which domain? JSON only."}],
        schema,
    )
    answer = provider.chat(request, timeout=600)
    # The grammar holds the model to the schema, whatever it thinks.
    assert set(answer) == {"domain", "full"} and answer["domain"] in ("database", "infrastructure")


@needs_model
@pytest.mark.timeout(1800)
def test_a_real_model_refines_or_is_dropped_cleanly() -> None:
    result, kb = analyse(EXAMPLES / "postgres", EXAMPLES / "app")
    incidents = copy.deepcopy(result.incidents)
    settings = LlmSettings(provider="llamacpp", model=GGUF, context_tokens=8192)
    helper = Assistant(
        open_provider(settings), AssistLimits(timeout=1200, budget_seconds=1500, pack_chars=6000)
    )
    report = helper.refine(incidents, kb)
    assert report.requests >= 1
    assert report.refined + report.rejected + report.failed == 1
    diagnosis = incidents[0].diagnosis
    assert diagnosis is not None
    if report.refined:
        assert diagnosis.llm is not None and diagnosis.llm.provider == "llamacpp"
    else:  # a small model's answer may fail the checks or run out of time: nothing changes
        assert diagnosis.llm is None
        assert diagnosis.root_cause == result.incidents[0].diagnosis.root_cause

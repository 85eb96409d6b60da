"""Every report says which parts of a diagnosis a model wrote, and none says so without one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.config import LlmSettings
from aiops_copilot.llm.assist import Assistant
from aiops_copilot.llm.gate import open_provider
from aiops_copilot.models import AnalysisResult
from aiops_copilot.report.html import render_html
from aiops_copilot.report.incidents_json import render_json
from aiops_copilot.report.markdown import render_markdown
from aiops_copilot.report.terminal import render_text
from llm.llm_support import EXAMPLES, FakeServer, analyse


@pytest.fixture(scope="module")
def plain() -> tuple[AnalysisResult, Any]:
    return analyse(EXAMPLES / "postgres", EXAMPLES / "app")


@pytest.fixture
def refined(fake: FakeServer, plain: tuple[AnalysisResult, Any]) -> AnalysisResult:
    fake.set_mode("diagnose")
    result = copy.deepcopy(plain[0])
    settings = LlmSettings(provider="ollama", url=fake.url, retries=1)
    Assistant(open_provider(settings)).refine(result.incidents, plain[1])
    assert result.incidents[0].diagnosis and result.incidents[0].diagnosis.llm
    return result


def test_text_report_marks_the_model_parts(refined: AnalysisResult) -> None:
    text = render_text(refined, width=160)
    assert "refined by qwen2.5:3b" in text
    assert "Root cause (model): The fake model read" in text
    assert "Model: ollama qwen2.5:3b wrote the title, root cause, 1 hypothesis" in text
    assert "Fixer's root cause: PostgreSQL refused new connections" in text
    assert "The cause the first item names (model)" in text
    assert "echo fake-model-check  (model)" in text


def test_markdown_report_marks_the_model_parts(refined: AnalysisResult) -> None:
    text = render_markdown(refined)
    assert "### Root cause (model)" in text
    assert "> **Model:** ollama qwen2.5:3b wrote" in text
    assert "> **Fixer's root cause:** PostgreSQL refused" in text
    assert "The cause the first item names (model)" in text
    assert "_The first 1 command(s) are the model's._" in text


def test_html_report_marks_the_model_parts(refined: AnalysisResult) -> None:
    text = render_html(refined)
    assert '<h3>Root cause <span class="model">(model)</span></h3>' in text
    assert "<dt>model</dt><dd>ollama qwen2.5:3b wrote the title" in text
    assert "<strong>Fixer's root cause:</strong> PostgreSQL refused" in text


def test_json_report_carries_provenance(refined: AnalysisResult) -> None:
    [incident] = json.loads(render_json(refined))["incidents"]
    llm = incident["llm"]
    assert llm["provider"] == "ollama" and llm["model"] == "qwen2.5:3b"
    assert llm["fields"] == ["title", "root_cause", "hypotheses", "remediation", "commands"]
    assert llm["model_items"] == {"hypotheses": 1, "remediation": 1, "commands": 1}
    assert set(llm["citations"]) == set(llm["cited"]) and llm["cited"][0] == "D1"
    assert llm["deterministic"]["title"].startswith("PostgreSQL")
    assert llm["text"].startswith("ollama qwen2.5:3b wrote")


def test_no_model_no_marks(plain: tuple[AnalysisResult, Any], tmp_path: Path) -> None:
    result = plain[0]
    assert "(model)" not in render_text(result, width=160)
    assert "(model)" not in render_markdown(result)
    assert 'class="model"' not in render_html(result)
    assert [i["llm"] for i in json.loads(render_json(result))["incidents"]] == [None]

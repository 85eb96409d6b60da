"""``GET /metrics`` after real work: what was ingested, analysed and found, and LLM calls."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from aiops_copilot.api.metrics import ApiMetrics
from aiops_copilot.llm.assist import AssistReport
from api.api_server import RunningApi, eval_lines


def test_metrics_after_a_window(api: RunningApi) -> None:
    lines = eval_lines("network/nginx-upstream-connection-refused", "error.log")
    with api.client() as client:
        pushed = client.post("/v1/logs", params={"source": "error.log"}, content="\n".join(lines))
        assert pushed.status_code == 202
        api.flush()
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert api.metric("aiops_ingest_records_total", endpoint="logs") == len(lines)
    assert api.metric("aiops_incidents_open", domain="network", severity="high") >= 1
    assert api.metric("aiops_templates") > 0
    assert api.metric("aiops_windows_total") >= 1
    assert api.metric("aiops_analysis_seconds_count", kind="window") >= 1
    assert api.metric("aiops_incident_changes_total", change="new") >= 1
    assert api.metric("aiops_ingest_queue_capacity") == 100_000
    assert "aiops_ingest_queue_records" in families
    assert families["aiops_analysis_seconds"].type == "histogram"


def test_llm_requests_are_read_from_the_analysis_report() -> None:
    metrics = ApiMetrics()
    report = AssistReport(provider="ollama", model="qwen", requests=3, failed=1, seconds=2.5)
    metrics.observe_analysis({"llm": report.to_dict()})
    metrics.observe_analysis({"totals": {}})  # an analysis without the assistant
    metrics.record_llm("openai", ok=False, seconds=0.4)
    text = metrics.render().decode()
    assert 'aiops_llm_requests_total{provider="ollama"} 3.0' in text
    assert 'aiops_llm_failures_total{provider="ollama"} 1.0' in text
    assert 'aiops_llm_failures_total{provider="openai"} 1.0' in text
    assert 'aiops_llm_seconds_count{provider="ollama"} 1.0' in text


def test_registries_are_per_app() -> None:
    first, second = ApiMetrics(), ApiMetrics()
    first.ingested.labels(endpoint="logs").inc(5)
    assert 'aiops_ingest_records_total{endpoint="logs"} 5.0' in first.render().decode()
    assert 'endpoint="logs"' not in second.render().decode()

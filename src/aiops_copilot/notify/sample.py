"""The incident ``aiops notify test`` sends: found by the real pipeline in shipped sample lines.

Analysing real lines (rather than filling an incident in by hand) means a test message has
every field a real one has, so a receiver that accepts the test accepts the real thing. Its
titles say ``[test]`` so nobody acts on it.
"""

from __future__ import annotations

import io
from importlib import resources

import yaml

from aiops_copilot.models import Incident

SAMPLE_FILE = "sample.yaml"
TEST_MARK = "[test] "


def sample_incident() -> Incident:
    """The worst incident in the sample lines, marked as a test."""
    from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
    from aiops_copilot.ingest.reader import IngestRun, ReadOptions, iter_records
    from aiops_copilot.ingest.sources import Source
    from aiops_copilot.knowledge.loader import load_knowledge
    from aiops_copilot.parsing.miner import TemplateMiner

    data = yaml.safe_load(resources.files(__package__).joinpath(SAMPLE_FILE).read_text("utf-8"))
    run = IngestRun(sources=[Source(name=str(data["source"]), path=None)], skipped=[])
    stdin = io.BytesIO(str(data["lines"]).encode("utf-8"))
    result = analyze(
        run,
        iter_records(run, ReadOptions(), stdin=stdin),
        TemplateMiner(),
        load_knowledge([]),
        AnalysisOptions(detectors=default_detectors()),
    )
    if not result.incidents:  # the shipped lines always raise one; a broken install may not
        raise RuntimeError("the sample log raised no incident (is the knowledge base installed?)")
    incident = result.incidents[0]
    incident.title = TEST_MARK + incident.title
    if incident.diagnosis is not None:
        incident.diagnosis.title = TEST_MARK + incident.diagnosis.title
    return incident

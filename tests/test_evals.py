"""The diagnosis evaluation: every real-failure fixture through the real pipeline, with gates.

Prints one line per case and the four rates, then fails when the copilot falls below the bar the
product promises: detection >= 95 %, no incident on a clean case, the right domain >= 90 %, a root
cause naming what really happened >= 85 %. Read tests/evals/README.md for the fixture format.
"""

from __future__ import annotations

import pytest

from aiops_copilot.knowledge.loader import load_knowledge
from eval_harness import CaseResult, cases, run_case

DETECTION_FLOOR = 0.95
DOMAIN_FLOOR = 0.90
DIAGNOSIS_FLOOR = 0.85


@pytest.fixture(scope="module")
def results() -> list[CaseResult]:
    kb = load_knowledge()
    return [run_case(case, kb) for case in cases()]


def _rate(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def test_eval_gates(results: list[CaseResult], capsys: pytest.CaptureFixture[str]) -> None:
    failures = [r for r in results if not r.is_clean]
    clean = [r for r in results if r.is_clean]
    assert len(clean) >= 8 and len(failures) >= 36
    detection = _rate(sum(r.detected for r in failures), len(failures))
    domain = _rate(sum(r.domain_ok for r in failures), len(failures))
    diagnosis = _rate(sum(r.diagnosis_ok for r in failures), len(failures))
    false_alarms = sum(r.detected for r in clean)
    with capsys.disabled():
        print()
        for r in results:
            if r.is_clean:
                mark = "FALSE ALARM" if r.detected else "clean ok"
            else:
                mark = " ".join(
                    word if ok else "-" * len(word)
                    for word, ok in (
                        ("detected", r.detected),
                        ("domain", r.domain_ok),
                        ("diagnosis", r.diagnosis_ok),
                    )
                )
            got = f"{r.got_domain}/{r.got_severity}" if r.got_domain else "no incident"
            print(f"  {mark:28} {r.case:62} {got}")
        print(
            f"  detection {detection:.1%} ({sum(r.detected for r in failures)}/{len(failures)}), "
            f"false alarms {false_alarms}/{len(clean)}, domain accuracy {domain:.1%}, "
            f"diagnosis hit rate {diagnosis:.1%}"
        )
    assert detection >= DETECTION_FLOOR
    assert false_alarms == 0
    assert domain >= DOMAIN_FLOOR
    assert diagnosis >= DIAGNOSIS_FLOOR


def test_every_diagnosed_incident_cites_real_lines(results: list[CaseResult]) -> None:
    """Evidence is never invented: each cited line exists in the file at that line number."""
    for r in results:
        for incident in r.result.incidents:
            refs = list(incident.lines)
            if incident.diagnosis is not None:
                refs += incident.diagnosis.evidence
            for ref in refs:
                # Binary: a lone carriage return inside a line is not a line break for us.
                with open(ref.source, "rb") as handle:
                    for number, raw in enumerate(handle, start=1):
                        if number == ref.line_no:
                            line = raw.decode("utf-8", "replace").rstrip("\r\n")
                            first = ref.text.split("\n", 1)[0].rstrip(" …")
                            assert line.startswith(first[:200]), (r.case, ref)
                            break
                    else:
                        raise AssertionError(f"{r.case}: no line {ref.line_no} in {ref.source}")

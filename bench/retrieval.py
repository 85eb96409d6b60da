"""Retrieval quality and speed of vector memory, written to docs/benchmarks.md.

Quality, on ``tests/data/retrieval``: the team runbooks in ``runbooks/`` (plus the 450 shipped
knowledge-base entries, as in production), and one query per real failure of
``tests/evals`` — the top incident ``aiops analyze`` finds in the case's logs, frozen in
``queries.yaml`` by ``--build-queries`` — each labelled in ``labels.yaml`` with the runbook
section(s) that answer it and its failure-mode group. Two tasks:

* runbooks: the right section in the top 3 of ``kb search`` for the incident's query;
* past incidents: with every *other* case's incident remembered, one of the same failure-mode
  group in the top 3 (queries whose group has no other member are skipped).

Queries are split once, by case: the eval suite's hold-out cases and a fixed hash half of the
others are *held out*; the rest is the *development* split, the only one the hybrid mix and the
thresholds were tuned on (``--tune`` prints the grid on the development split).

Speed, in local mode on disk: storing 1,000 incidents (batched, as ``analyze`` does); a
fixer's two searches per incident (runbooks + past incidents) with 20,000 incidents stored
(synthetic incident texts); opening that folder; and upserts one at a time vs batched.

Usage: ``python bench/retrieval.py [--write docs/benchmarks.md] [--tune] [--build-queries]``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from loguru import logger

from aiops_copilot.memory.incidents import IncidentMemo, incident_text, remember
from aiops_copilot.memory.recall import Thresholds
from aiops_copilot.memory.runbooks import add_paths, ensure_kb_indexed
from aiops_copilot.memory.vectors import Hit, Kind, Scoring, VectorMemory

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "retrieval"
RUNBOOKS = DATA / "runbooks"
QUERIES = DATA / "queries.yaml"
LABELS = DATA / "labels.yaml"
TOP = 3
DEV, HELD_OUT = "dev", "held-out"


# -- the data set -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    case: str
    split: str
    title: str
    templates: tuple[str, ...]
    diagnosis_title: str | None
    root_cause: str | None
    recognised: bool
    entry_ids: tuple[str, ...]
    runbook: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The query exactly as production builds it (memory.incidents.text_of)."""
        return incident_text(
            self.title,
            self.templates,
            self.diagnosis_title if self.recognised else None,
            self.root_cause if self.recognised else None,
        )


def split_of(case: str, holdout: bool) -> str:
    """Eval hold-out cases are held out; of the others, a fixed hash half is too."""
    if holdout:
        return HELD_OUT
    return HELD_OUT if hashlib.sha256(case.encode()).digest()[0] % 2 else DEV


def load_queries(path: Path = QUERIES, labels: Path = LABELS) -> list[Query]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    label_map = yaml.safe_load(labels.read_text(encoding="utf-8"))["cases"]
    out = []
    for item in raw["queries"]:
        label = label_map.get(item["case"], {})
        out.append(
            Query(
                case=item["case"],
                split=item["split"],
                title=item["title"],
                templates=tuple(item["templates"]),
                diagnosis_title=item.get("diagnosis_title"),
                root_cause=item.get("root_cause"),
                recognised=bool(item.get("recognised")),
                entry_ids=tuple(item.get("entry_ids") or ()),
                runbook=tuple(label.get("runbook") or ()),
                groups=_as_tuple(label.get("group")),
            )
        )
    return out


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (str(value),)


def build_queries(path: Path = QUERIES) -> int:
    """Run every failure case of tests/evals through the real pipeline; freeze its top
    incident's query fields (so the quality gate does not move when the pipeline does)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from aiops_copilot.knowledge.loader import load_knowledge
    from aiops_copilot.memory.incidents import recognised
    from eval_harness import analyse_case, cases

    kb = load_knowledge()
    queries: list[dict[str, Any]] = []
    for case in cases():
        expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
        if not expected.get("incident"):
            continue
        result = analyse_case(case, kb)
        if not result.incidents:
            continue
        top = result.incidents[0]
        diagnosis = top.diagnosis
        name = f"{case.parent.name}/{case.name}"
        templates = [t.template for t in sorted(top.templates, key=lambda t: -t.count)][:3]
        queries.append(
            {
                "case": name,
                "split": split_of(name, bool(expected.get("holdout"))),
                "title": top.title,
                "templates": templates,
                "diagnosis_title": diagnosis.title if diagnosis else None,
                "root_cause": diagnosis.root_cause if diagnosis else None,
                "recognised": recognised(diagnosis),
                "entry_ids": list(diagnosis.entry_ids) if diagnosis else [],
            }
        )
    header = (
        "# Frozen by `python bench/retrieval.py --build-queries` from the top incident of each\n"
        "# failure case in tests/evals (the real pipeline on the real logs). Labels: labels.yaml.\n"
    )
    body = yaml.safe_dump({"queries": queries}, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(header + body, encoding="utf-8")
    return len(queries)


# -- evaluation ---------------------------------------------------------------------------------


@dataclass
class Ranked:
    """All candidates of one query with both score halves, to re-rank under any mix."""

    query: Query
    hits: list[Hit]


@dataclass
class Score:
    top1: int = 0
    top3: int = 0
    total: int = 0
    correct_scores: list[float] = field(default_factory=list)
    wrong_scores: list[float] = field(default_factory=list)

    def pct(self, n: int) -> str:
        return f"{n / self.total:.0%} ({n}/{self.total})" if self.total else "—"


def runbook_ok(query: Query, payload: dict[str, Any]) -> bool:
    section = payload.get("section") or []
    if payload.get("kind") != "runbook" or not section:
        return False
    return f"{Path(str(payload.get('source'))).name}#{section[-1]}" in query.runbook


def incident_ok(query: Query, payload: dict[str, Any], groups: dict[str, tuple[str, ...]]) -> bool:
    other = str(payload.get("fingerprint"))
    return other != query.case and bool(set(query.groups) & set(groups.get(other, ())))


def open_memory(folder: Path, scoring: Scoring | None = None) -> VectorMemory:
    return VectorMemory.open(path=folder, scoring=scoring)


def index_dataset(memory: VectorMemory, queries: Sequence[Query]) -> None:
    add_paths(memory, [str(RUNBOOKS)])
    ensure_kb_indexed(memory)
    remember(
        memory,
        [
            IncidentMemo(
                fingerprint=q.case,
                title=q.diagnosis_title if q.recognised and q.diagnosis_title else q.title,
                text=q.text,
                root_cause=q.root_cause,
            )
            for q in queries
        ],
    )


def candidates(memory: VectorMemory, queries: Sequence[Query]) -> tuple[list[Ranked], list[Ranked]]:
    """Every candidate a search mixes over (k = all of them), for runbooks and incidents."""
    wide = memory.scoring.candidates  # the very candidate set a k=3 search mixes over
    runbooks, incidents = [], []
    for query in queries:
        text = query.text
        hits = memory.search(
            Kind.RUNBOOKS,
            text,
            wide,
            exclude={"entry_id": list(query.entry_ids)} if query.entry_ids else None,
        )
        runbooks.append(Ranked(query, hits))
        if query.groups:
            hits = memory.search(Kind.INCIDENTS, text, wide, exclude={"fingerprint": query.case})
            incidents.append(Ranked(query, hits))
    return runbooks, incidents


def score(
    ranked: Iterable[Ranked],
    scoring: Scoring,
    ok: Any,
    split: str | None = None,
    *,
    has_answer: Any = None,
) -> Score:
    result = Score()
    for item in ranked:
        if split is not None and item.query.split != split:
            continue
        if has_answer is not None and not has_answer(item.query):
            continue
        mixed = sorted(item.hits, key=lambda h: (-_mix(scoring, h), str(h.payload.get("key", ""))))
        result.total += 1
        flags = [ok(item.query, h.payload) for h in mixed[:TOP]]
        result.top1 += bool(flags[:1] and flags[0])
        result.top3 += any(flags)
        if mixed:
            best = round(_mix(scoring, mixed[0]), 4)
            (result.correct_scores if flags and flags[0] else result.wrong_scores).append(best)
    return result


def _mix(scoring: Scoring, hit: Hit) -> float:
    return scoring.mix(hit.dense, hit.lexical, hit.payload.get("kind"))


def evaluate(
    scoring: Scoring | None = None, *, queries: Sequence[Query] | None = None
) -> dict[str, Score]:
    """Index the data set in a fresh local folder and score both tasks on both splits."""
    scoring = scoring or Scoring()
    queries = list(queries or load_queries())
    with tempfile.TemporaryDirectory(prefix="aiops-retrieval-") as folder:
        memory = open_memory(Path(folder), scoring)
        try:
            index_dataset(memory, queries)
            runbooks, incidents = candidates(memory, queries)
        finally:
            memory.close()
    return summarise(runbooks, incidents, queries, scoring)


def summarise(
    runbooks: list[Ranked], incidents: list[Ranked], queries: Sequence[Query], scoring: Scoring
) -> dict[str, Score]:
    groups = {q.case: q.groups for q in queries}
    members: dict[str, int] = {}
    for q in queries:
        for group in q.groups:
            members[group] = members.get(group, 0) + 1

    def has_sibling(q: Query) -> bool:
        return any(members.get(g, 0) > 1 for g in q.groups)

    def inc_ok(q: Query, p: dict[str, Any]) -> bool:
        return incident_ok(q, p, groups)

    out: dict[str, Score] = {}
    for split in (DEV, HELD_OUT):
        out[f"runbooks/{split}"] = score(runbooks, scoring, runbook_ok, split)
        out[f"incidents/{split}"] = score(incidents, scoring, inc_ok, split, has_answer=has_sibling)
    return out


def tune(queries: Sequence[Query] | None = None) -> list[tuple[float, float, float, int, int]]:
    """Grid over the mix on the development split only:
    (alpha, saturation, kb prior, top3, top1)."""
    queries = list(queries or load_queries())
    with tempfile.TemporaryDirectory(prefix="aiops-retrieval-") as folder:
        memory = open_memory(Path(folder))
        try:
            index_dataset(memory, queries)
            runbooks, incidents = candidates(memory, queries)
        finally:
            memory.close()
    rows = []
    for alpha in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0):
        for saturation in (0.1, 0.25, 0.5, 1.0, 2.0):
            for kb in (1.0, 0.95, 0.9, 0.85, 0.8):
                scoring = Scoring(alpha=alpha, saturation=saturation, prior={"kb": kb})
                result = summarise(runbooks, incidents, queries, scoring)
                dev_r, dev_i = result[f"runbooks/{DEV}"], result[f"incidents/{DEV}"]
                rows.append(
                    (alpha, saturation, kb, dev_r.top3 + dev_i.top3, dev_r.top1 + dev_i.top1)
                )
    return rows


# -- speed --------------------------------------------------------------------------------------

_SERVICES = [
    "orders",
    "payments",
    "checkout",
    "inventory",
    "billing",
    "search",
    "auth",
    "gateway",
    "render",
    "notify",
]
_FAILURES = [
    "connection refused to {dep} on port {n}",
    "timeout after {n} ms calling {dep}",
    "disk full on /var/lib/{svc}",
    "OutOfMemoryError in {svc} worker {n}",
    "deadlock detected on table {dep}_{n}",
    "TLS handshake failed with {dep}: certificate expired",
    "HTTP 503 from {dep} after {n} retries",
    "too many open files in {svc}",
    "permission denied writing /srv/{svc}/{n}.log",
    "queue {dep}.events consumer lagging by {n} messages",
]


def synthetic_memos(count: int, seed: int = 7) -> list[IncidentMemo]:
    rng = random.Random(seed)
    memos = []
    for n in range(count):
        svc, dep = rng.choice(_SERVICES), rng.choice(_SERVICES)
        lines = [
            rng.choice(_FAILURES).format(svc=svc, dep=dep, n=rng.randint(1, 99999))
            for _ in range(3)
        ]
        title = f"{svc}: {lines[0]}"
        memos.append(
            IncidentMemo(
                fingerprint=f"synthetic-{n}",
                title=title,
                text=incident_text(title, lines),
                domain=rng.choice(["database", "network", "application"]),
            )
        )
    return memos


@dataclass
class Speed:
    store_1000_s: float = 0.0
    fill_20000_s: float = 0.0
    open_20000_s: float = 0.0
    search_ms_mean: float = 0.0
    search_ms_p95: float = 0.0
    per_incident_ms_mean: float = 0.0
    per_incident_ms_p95: float = 0.0
    upserts: dict[str, float] = field(default_factory=dict)


def measure_speed(queries: Sequence[Query], stored: int = 20_000) -> Speed:
    speed = Speed()
    memos = synthetic_memos(stored)
    with tempfile.TemporaryDirectory(prefix="aiops-speed-") as tmp:
        folder = Path(tmp) / "qdrant"
        memory = VectorMemory.open(path=folder)
        try:
            memory.embedder.embed(["warm up"])
            start = time.perf_counter()
            remember(memory, memos[:1000])
            speed.store_1000_s = time.perf_counter() - start
            start = time.perf_counter()
            remember(memory, memos[1000:])
            speed.fill_20000_s = time.perf_counter() - start + speed.store_1000_s
            add_paths(memory, [str(RUNBOOKS)])
            ensure_kb_indexed(memory)
        finally:
            memory.close()
        start = time.perf_counter()
        memory = VectorMemory.open(path=folder)
        memory.ensure(Kind.INCIDENTS)
        memory.ensure(Kind.RUNBOOKS)
        speed.open_20000_s = time.perf_counter() - start
        try:
            searches: list[float] = []
            per_incident: list[float] = []
            for _ in range(3):
                for query in queries:
                    text = query.text
                    t0 = time.perf_counter()
                    memory.search(Kind.RUNBOOKS, text, TOP)
                    t1 = time.perf_counter()
                    memory.search(Kind.INCIDENTS, text, TOP)
                    t2 = time.perf_counter()
                    searches += [(t1 - t0) * 1000, (t2 - t1) * 1000]
                    per_incident.append((t2 - t0) * 1000)
        finally:
            memory.close()
    speed.search_ms_mean = statistics.fmean(searches)
    speed.search_ms_p95 = _p95(searches)
    speed.per_incident_ms_mean = statistics.fmean(per_incident)
    speed.per_incident_ms_p95 = _p95(per_incident)
    speed.upserts = measure_upserts()
    return speed


def measure_upserts(count: int = 2000) -> dict[str, float]:
    """Points per second: the client's default one point per call, the same batched, and
    VectorMemory (batched, WAL + synchronous=NORMAL) — embedding excluded from all three."""
    from qdrant_client import QdrantClient
    from qdrant_client.http import models as qm

    memos = synthetic_memos(count, seed=11)
    from aiops_copilot.memory.embedding import default_embedder

    vectors = default_embedder().embed([m.text for m in memos])
    out: dict[str, float] = {}
    for label, batch in (("client, one point per upsert", 1), ("client, batches of 256", 256)):
        with tempfile.TemporaryDirectory(prefix="aiops-upsert-") as tmp:
            client = QdrantClient(path=tmp)
            client.create_collection(
                "c", vectors_config=qm.VectorParams(size=256, distance=qm.Distance.COSINE)
            )
            points = [
                qm.PointStruct(id=str(uuid.uuid4()), vector=v.tolist(), payload={"t": m.text})
                for m, v in zip(memos, vectors, strict=True)
            ]
            start = time.perf_counter()
            for i in range(0, len(points), batch):
                client.upsert("c", points[i : i + batch])
            out[label] = len(points) / (time.perf_counter() - start)
            client.close()
    with tempfile.TemporaryDirectory(prefix="aiops-upsert-") as tmp:
        memory = VectorMemory.open(path=tmp)
        memory.ensure(Kind.INCIDENTS)
        start = time.perf_counter()
        remember(memory, memos)
        elapsed = time.perf_counter() - start
        memory.close()
    out["VectorMemory (batches of 256, WAL), embedding included"] = count / elapsed
    return out


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# -- report -------------------------------------------------------------------------------------


def report(results: dict[str, Score], speed: Speed | None, scoring: Scoring) -> str:
    from bench_doc import markdown_table

    thresholds = Thresholds()
    lines = [
        "Hybrid retrieval (`aiops_copilot/memory/vectors.py`): "
        f"score = {scoring.alpha} x cosine + {1 - scoring.alpha:.1f} x bm25/(bm25 + "
        f"{scoring.saturation:g}) re-ranking the {scoring.candidates} nearest by cosine (bm25: "
        "per query token, IDF over those candidates; knowledge-base entries x "
        f"{scoring.prior.get('kb', 1.0)}); tuned on the development split only. "
        f"Data: `tests/data/retrieval` — {len(list(RUNBOOKS.glob('*.md')))} team runbooks "
        "(Markdown, one passage per section) indexed with the 450 shipped knowledge-base "
        "entries; one query per real failure in `tests/evals` (its top incident from "
        "`aiops analyze`), labelled with the runbook section(s) and failure-mode group that "
        "should come back. Past incidents: every other case's incident in memory; queries "
        "whose group has no other member are not counted.",
        "",
    ]
    rows = []
    for task in ("runbooks", "incidents"):
        for split in (DEV, HELD_OUT):
            result = results[f"{task}/{split}"]
            rows.append(
                (
                    f"{task}, {split}",
                    result.total,
                    result.pct(result.top1),
                    result.pct(result.top3),
                )
            )
    lines += markdown_table(("task, split", "queries", "top-1", "top-3"), rows)
    cited = []
    for task, floor in (("runbooks", thresholds.runbook), ("incidents", thresholds.incident)):
        result = results[f"{task}/{HELD_OUT}"]
        above = sum(1 for v in result.correct_scores if v >= floor)
        wrong = sum(1 for v in result.wrong_scores if v >= floor)
        cited.append(
            f"{task} from {floor}: {above} of {len(result.correct_scores)} right top-1 answers "
            f"pass it, as do {wrong} of {len(result.wrong_scores)} wrong ones"
        )
    lines += [
        "",
        "Cited in diagnoses only above a threshold on the hybrid score (set on the development "
        "split, above what unrelated queries score); on the held-out split, "
        + "; ".join(cited)
        + ".",
    ]
    if speed is not None:
        lines += [
            "",
            "Speed, local mode on disk (`QdrantClient(path=...)`), this machine:",
            "",
        ]
        lines += markdown_table(
            ("measure", "value"),
            [
                ("store 1,000 incidents (embed + batched upsert)", f"{speed.store_1000_s:.2f} s"),
                ("fill to 20,000 incidents", f"{speed.fill_20000_s:.1f} s"),
                ("open the folder holding 20,000 incidents", f"{speed.open_20000_s:.2f} s"),
                (
                    "one hybrid search at 20,000 stored, mean / p95",
                    f"{speed.search_ms_mean:.1f} / {speed.search_ms_p95:.1f} ms",
                ),
                (
                    "retrieval per incident (runbooks + past incidents), mean / p95",
                    f"{speed.per_incident_ms_mean:.1f} / {speed.per_incident_ms_p95:.1f} ms",
                ),
            ]
            + [(f"upsert: {k}", f"{v:,.0f} points/s") for k, v in speed.upserts.items()],
        )
        lines += [
            "",
            "Local mode keeps every point in memory and scans them all per query; it loads the "
            "whole folder when opened. Beyond about 20,000 incidents, or with several processes "
            "writing, use a Qdrant server (`AIOPS_QDRANT_URL`): same code, indexed search.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this benchmarks file")
    parser.add_argument("--tune", action="store_true", help="print the grid (dev split only)")
    parser.add_argument("--build-queries", action="store_true", help="refreeze queries.yaml")
    parser.add_argument("--no-speed", action="store_true", help="quality only")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    if args.build_queries:
        print(f"{build_queries()} queries written to {QUERIES}")
    queries = load_queries()
    if args.tune:
        rows = sorted(tune(queries), key=lambda r: (-r[3], -r[4], abs(r[0] - 0.5)))
        for alpha, saturation, kb, top3, top1 in rows[:25]:
            print(
                f"alpha={alpha:.1f} saturation={saturation:>4g} kb={kb:.2f}  "
                f"dev top3={top3} top1={top1}"
            )
        return
    scoring = Scoring()
    results = evaluate(scoring, queries=queries)
    speed = None if args.no_speed else measure_speed(queries)
    text = report(results, speed, scoring)
    print(text)
    if args.write:
        from bench_doc import update_section

        update_section(args.write, "retrieval", text)


if __name__ == "__main__":
    main()

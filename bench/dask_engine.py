"""Lines per second of ``aiops analyze --engine dask`` (1 and 2 workers) against the default
single-process engine, on about 5,000,000 raw lines, in one run.

The input is eight Loghub-2k raw logs of different formats (generic headers, syslog, logcat,
Apache error, Java log lines with traces), each repeated to an eighth of the wanted lines, so
that several files are larger than a partition (64 MiB) and are cut into byte ranges. Each
engine runs as a user runs it, ``aiops -v analyze --json --no-store --no-memory FILES``
in a child process (start-up, the local cluster's start included), and the reports are
checked to be the same: lines, records, templates, incidents. The engines take turns, each
``--repeat`` times (default 2), and each keeps its fastest run: on a shared machine the slowest
runs measure the neighbours.
Usage: ``python bench/dask_engine.py [--lines N] [--repeat N] [--write docs/benchmarks.md]``.
Exits 1 when the one-worker engine is more than 25 % slower than the single-process one.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline import DATA, build, user_environment

CASES = ("OpenStack", "Hadoop", "BGL", "HDFS", "Android", "Linux", "Apache", "Spark")
#: The one-worker engine must keep at least this share of the single-process rate.
FLOOR = 0.75


def run(paths: list[Path], engine: list[str]) -> dict[str, object]:
    """One ``aiops analyze`` with its own data folders; wall time, rates, what it found."""
    aiops = Path(sys.executable).with_name("aiops")
    with tempfile.TemporaryDirectory(prefix="aiops-bench-") as home:
        env = user_environment(Path(home))
        started = time.perf_counter()
        proc = subprocess.run(
            [str(aiops), "-v", "analyze", "--json", "--fail-on", "never", "--no-store",
             "--no-memory", *engine, *map(str, paths)],
            capture_output=True,
            env=env,
            check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace")[-2000:])
    report = json.loads(proc.stdout)
    totals = report["summary"]["totals"]
    log = proc.stderr.decode(errors="replace")
    partitions = re.search(r"dask: (\d+) partitions", log)
    workers = re.search(r"dask: (\S+: \d+ partitions.*)", log)
    return {
        "lines": int(totals["lines"]),
        "records": totals["records"],
        "templates": totals["templates"],
        "incidents": sorted(i["id"] for i in report["incidents"]),
        "seconds": round(seconds, 1),
        "lines_per_s": round(int(totals["lines"]) / seconds),
        "partitions": int(partitions.group(1)) if partitions else 1,
        "workers": workers.group(1).strip() if workers else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found: {DATA}", file=sys.stderr)
        return 2
    engines = {
        "single process (default)": [],
        "dask, 1 worker": ["--engine", "dask", "--workers", "1"],
        "dask, 2 workers": ["--engine", "dask", "--workers", "2"],
    }
    per_case = args.lines // len(CASES) + 2000  # whole 2,000-line blocks, at least --lines
    with tempfile.TemporaryDirectory(prefix="aiops-dask-bench-") as tmp:
        paths = []
        for name in CASES:
            path = Path(tmp) / f"{name}.log"
            build(name, per_case, path)
            paths.append(path)
        size = sum(p.stat().st_size for p in paths)
        runs: dict[str, list[dict[str, object]]] = {label: [] for label in engines}
        loads = []
        for _ in range(max(1, args.repeat)):
            for label, engine in engines.items():
                loads.append(os.getloadavg()[0])
                runs[label].append(run(paths, engine))
                print(label, runs[label][-1], file=sys.stderr)
    found = ("lines", "records", "templates", "incidents")
    first = runs["single process (default)"][0]
    same = all(
        {k: r[k] for k in found} == {k: first[k] for k in found} for rs in runs.values() for r in rs
    )
    rows = {label: min(rs, key=lambda r: float(r["seconds"])) for label, rs in runs.items()}
    base = rows["single process (default)"]
    ratio = float(rows["dask, 1 worker"]["lines_per_s"]) / float(base["lines_per_s"])
    print(json.dumps({"same_results": same, "one_worker_ratio": round(ratio, 3), **rows}, indent=2))
    if args.write:
        from bench_doc import markdown_table, update_section

        text = [
            f"`aiops -v analyze --json --no-store --no-memory FILES` on {base['lines']:,} raw "
            f"lines ({size / 2**20:,.0f} MiB): eight Loghub-2k logs of different formats "
            f"({', '.join(CASES)}), each repeated to about {per_case:,} lines. The default "
            "engine, then `--engine dask --workers 1` and `--workers 2` (a local cluster, 64 "
            "MiB partitions), taking turns; wall time of the whole command, start-up and the "
            "cluster's start included; "
            + (
                f"the fastest of {args.repeat} runs per engine. "
                if args.repeat > 1
                else "one run per engine. "
            )
            + f"This machine has {os.cpu_count()} CPUs and was shared: the 1-minute load average "
            f"was {min(loads):.1f}–{max(loads):.1f} when the runs started. Store and memory "
            "are off: they cost the same with either engine. Command: `python "
            "bench/dask_engine.py --write docs/benchmarks.md`.",
            "",
            *markdown_table(
                ("engine", "partitions", "seconds", "lines/s", "× single process"),
                (
                    (
                        label,
                        r["partitions"] if label.startswith("dask") else "—",
                        r["seconds"],
                        r["lines_per_s"],
                        f"{float(r['lines_per_s']) / float(base['lines_per_s']):.2f}",
                    )
                    for label, r in rows.items()
                ),
            ),
            "",
            f"Same lines, records, templates ({base['templates']}) and incidents "
            f"({len(base['incidents'])}) from every engine: {'yes' if same else 'NO'}. "
            f"One worker keeps {ratio:.0%} of the single-process rate (the floor is "
            f"{FLOOR:.0%}). Per worker, 2 workers: {rows['dask, 2 workers']['workers']}.",
        ]
        update_section(args.write, "dask_engine", "\n".join(text))
    if not same:
        print("the engines disagree", file=sys.stderr)
        return 1
    return 0 if ratio >= FLOOR else 1


if __name__ == "__main__":
    sys.exit(main())

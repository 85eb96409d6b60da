"""End-to-end speed and memory of ``aiops analyze`` on raw log files, as a user runs it.

Builds inputs from the Loghub-2k raw logs (each file repeated until it reaches the wanted size,
so format detection, header parsing, multi-line folding and mining all run) and times the real
command in a child process, reading its peak RSS from ``wait4``.
Usage: ``python bench/pipeline.py [--lines N] [--write docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-2k"
CASES = ("HDFS", "OpenStack", "Linux", "Android")


def build(name: str, lines: int, target: Path, *, compress: bool = False) -> None:
    source = (DATA / name / f"{name}_2k.log").read_bytes().replace(b"\r\n", b"\n")
    block = source if source.endswith(b"\n") else source + b"\n"
    per_block = block.count(b"\n")
    opener = gzip.open if compress else open
    with opener(target, "wb") as out:
        for _ in range(max(1, lines // per_block)):
            out.write(block)


def user_environment(home: Path) -> dict[str, str]:
    """The environment of a user's shell, with data and cache folders in ``home``: without
    PYTHONDONTWRITEBYTECODE (set in some sandboxes), which would make every run compile the
    package from source again, a cost no installed copy pays."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CACHE_HOME"] = str(home / "cache")
    return env


def run(paths: list[Path], home: Path | None = None) -> dict[str, object]:
    """One ``aiops analyze`` as a user runs it (store and memory on), with its data and cache
    folders in ``home`` (a new throwaway folder when not given)."""
    aiops = Path(sys.executable).with_name("aiops")
    home = home or Path(tempfile.mkdtemp(prefix="aiops-bench-"))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        env = user_environment(home)
        proc = subprocess.Popen(
            [str(aiops), "-q", "analyze", "--json", "--fail-on", "never", *map(str, paths)],
            stdout=out,
            stderr=err,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(err.read().decode())
        report = json.loads(out.read())
    summary = report["summary"]
    lines = int(summary["totals"]["lines"])
    return {
        "lines": lines,
        "records": summary["totals"]["records"],
        "templates": summary["totals"]["templates"],
        "incidents": len(report["incidents"]),
        "seconds": round(elapsed, 2),
        "lines_per_s": round(lines / elapsed),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "formats": sorted({s["format"] for s in summary["sources"]}),
    }


def _small_files() -> list[tuple[str, float, float]]:
    """Wall time of a whole ``aiops analyze`` (start-up included) on each 2,000-line log:
    first in new data and cache folders (the run creates the store, indexes the knowledge base
    into Qdrant and caches the parsed knowledge base), then again in the same folders, as
    every later run of a user is."""
    timings = []
    for folder in sorted(p for p in DATA.iterdir() if p.is_dir()):
        log = folder / f"{folder.name}_2k.log"
        if log.exists():
            with tempfile.TemporaryDirectory(prefix="aiops-bench-") as home:
                first = float(run([log], Path(home))["seconds"])  # type: ignore[arg-type]
                later = float(run([log], Path(home))["seconds"])  # type: ignore[arg-type]
            timings.append((folder.name, first, later))
            print(folder.name, first, later, file=sys.stderr)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found: {DATA}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            path = Path(tmp) / f"{name}.log"
            build(name, args.lines, path)
            result = run([path])
            rows.append((f"{name} raw, one file", result))
            path.unlink()
            print(name, result, file=sys.stderr)
        gz = Path(tmp) / "HDFS.log.gz"
        build("HDFS", args.lines, gz, compress=True)
        result = run([gz])
        rows.append(("HDFS raw, gzip", result))
        print("HDFS.gz", result, file=sys.stderr)
    small = _small_files()
    print(json.dumps([{"case": case, **r} for case, r in rows], indent=2))
    if args.write:
        from bench_doc import markdown_table, update_section

        text = [
            f"`aiops -q analyze --json FILE` on about {args.lines:,} raw lines per case (a "
            "Loghub-2k log repeated), one process, whole pipeline: read, detect, parse, fold, "
            "mine, then detect, group into incidents, classify, diagnose, store the run "
            "(SQLite), cite and remember in vector memory (Qdrant local mode), report. "
            "Peak RSS is the child's maximum resident set. Command: `python "
            "bench/pipeline.py --write docs/benchmarks.md`.",
            "",
            *markdown_table(
                (
                    "case",
                    "format",
                    "lines",
                    "records",
                    "templates",
                    "incidents",
                    "seconds",
                    "lines/s",
                    "peak RSS (MiB)",
                ),
                (
                    (
                        case,
                        ", ".join(map(str, r["formats"])),
                        r["lines"],
                        r["records"],
                        r["templates"],
                        r["incidents"],
                        r["seconds"],
                        r["lines_per_s"],
                        r["peak_rss_mib"],
                    )
                    for case, r in rows
                ),
            ),
        ]
        first = sorted(seconds for _, seconds, _ in small)
        later = sorted(seconds for _, _, seconds in small)
        text += [
            "",
            "A 2,000-line file, start-up included (`aiops -q analyze --json FILE` on each of the "
            f"{len(small)} Loghub-2k raw logs, one process each, store and memory on). A user's "
            "first run in new data and cache folders (it also creates the store, indexes the "
            "knowledge base into Qdrant and caches the parsed knowledge base): "
            f"median {first[len(first) // 2]:.2f} s, "
            f"slowest {first[-1]:.2f} s ({max(small, key=lambda item: item[1])[0]}). "
            "Every later run (the same folders): "
            f"median {later[len(later) // 2]:.2f} s, "
            f"slowest {later[-1]:.2f} s ({max(small, key=lambda item: item[2])[0]}).",
            "",
            "| log | first run (s) | later run (s) |",
            "|---|---:|---:|",
            *(f"| {name} | {a:.2f} | {b:.2f} |" for name, a, b in small),
        ]
        update_section(args.write, "pipeline", "\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Template-mining accuracy on the 16 Loghub-2k datasets: this project against Drain3.

One configuration for every dataset, no per-dataset masks. Three ways of running ours:

* ``content``: each labelled ``Content`` cell is the message (what ``--content-only`` does);
* ``raw``: the raw log file goes through format detection and header parsing first, exactly as
  ``aiops templates FILE`` reads it, so header mistakes cost accuracy here;

and Drain3 0.9.11 on the same ``Content`` cells twice: with its default configuration (one for
all) and with logparser's tuned per-dataset settings (``settings.json``: similarity threshold,
depth and regex masks), the setting most papers quote.

Labels: the corrected ones (Khan et al. ICSE'22), the data README's default.
Usage: ``python bench/loghub_accuracy.py [--write docs/benchmarks.md] [--datasets A B ...]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.logs import setup_logging
from aiops_copilot.parsing.miner import Cluster, TemplateMiner
from logparse_metrics import ParseScores, score

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-2k"


def load_rows(name: str) -> list[dict[str, str]]:
    path = DATA / name / f"{name}_2k.log_structured.csv"
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ours_content(rows: list[dict[str, str]]) -> tuple[list[int], list[str]]:
    miner = TemplateMiner()
    clusters = [miner.add(row["Content"]) for row in rows]
    return _final(clusters)


def ours_raw(name: str, lines: int) -> tuple[list[int], list[str]]:
    """Per physical line, the cluster of the record that line belongs to."""
    miner = TemplateMiner()
    run = open_inputs([str(DATA / name / f"{name}_2k.log")])
    per_line: list[Cluster | None] = [None] * lines
    for record in iter_records(run, ReadOptions()):
        cluster = miner.add(record.message, timestamp=record.timestamp)
        for number in range(record.line_no, max(record.line_no, record.end_line) + 1):
            if 1 <= number <= lines:
                per_line[number - 1] = cluster
    filler = miner.add("")  # a line the reader dropped still needs a group
    return _final([c if c is not None else filler for c in per_line])


def _final(clusters: list[Cluster]) -> tuple[list[int], list[str]]:
    resolved = [c.resolve() for c in clusters]
    return [c.cid for c in resolved], [c.template_wildcards for c in resolved]


def drain3(
    rows: list[dict[str, str]], tuned: dict[str, object] | None
) -> tuple[list[int], list[str]]:
    from drain3 import TemplateMiner as Drain3Miner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    if tuned is not None:
        config.drain_sim_th = float(str(tuned["st"]))
        config.drain_depth = int(str(tuned["depth"]))
        config.masking_instructions = [
            MaskingInstruction(pattern, "*")
            for pattern in tuned["regex"]  # type: ignore[attr-defined]
        ]
        config.mask_prefix, config.mask_suffix = "<", ">"
    miner = Drain3Miner(config=config)
    ids = [miner.add_log_message(row["Content"])["cluster_id"] for row in rows]
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    star = re.compile(r"<[A-Z*]+>")
    return ids, [star.sub("<*>", templates[i]) for i in ids]


def run_one(
    run: str, name: str, rows: list[dict[str, str]], tuned: dict[str, object]
) -> tuple[list[int], list[str]]:
    if run == "ours-content":
        return ours_content(rows)
    if run == "ours-raw":
        return ours_raw(name, len(rows))
    return drain3(rows, tuned if run == "drain3-tuned" else None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path)
    parser.add_argument("--datasets", nargs="*")
    parser.add_argument("--no-drain3", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"benchmark data not found: {DATA}", file=sys.stderr)
        return 2
    setup_logging(0)
    settings = json.loads((DATA / "settings.json").read_text(encoding="utf-8"))
    names = args.datasets or sorted(p.name for p in DATA.iterdir() if p.is_dir())
    runs = ["ours-content", "ours-raw"] + (
        [] if args.no_drain3 else ["drain3-default", "drain3-tuned"]
    )
    table: dict[str, dict[str, ParseScores]] = {run: {} for run in runs}
    for name in names:
        rows = load_rows(name)
        truth = [row["EventTemplate"] for row in rows]
        for run in runs:
            groups, templates = run_one(run, name, rows, settings[name])
            table[run][name] = score(truth, groups, templates)
        print(
            f"{name:12s} " + " ".join(f"{run}: GA={table[run][name].ga:.3f}" for run in runs),
            file=sys.stderr,
        )
    means = {run: _means(table[run]) for run in runs}
    print(json.dumps({"means": means}, indent=2))
    if args.write:
        from bench_doc import update_section

        update_section(args.write, "loghub_accuracy", _markdown(names, runs, table, means))
    return 0


def _means(scores: dict[str, ParseScores]) -> dict[str, float]:
    n = len(scores) or 1
    return {
        metric: round(sum(getattr(s, metric) for s in scores.values()) / n, 4)
        for metric in ("ga", "pa", "fga", "fta")
    }


def _markdown(
    names: list[str],
    runs: list[str],
    table: dict[str, dict[str, ParseScores]],
    means: dict[str, dict[str, float]],
) -> str:
    out = [
        "Loghub-2k, corrected labels, one configuration for all 16 datasets. "
        "Command: `python bench/loghub_accuracy.py --write docs/benchmarks.md`.",
        "`ours-content`: the labelled Content column as input (`--content-only`); `ours-raw`: "
        "the raw log lines, header found by format detection; Drain3 0.9.11 on the Content "
        "column with its defaults and with logparser's tuned per-dataset settings.",
        "",
        "| dataset | " + " | ".join(f"{r} GA / PA / FGA / FTA" for r in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for name in names:
        cells = []
        for run in runs:
            s = table[run][name]
            cells.append(f"{s.ga:.3f} / {s.pa:.3f} / {s.fga:.3f} / {s.fta:.3f}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = [
        f"**{m['ga']:.3f}** / {m['pa']:.3f} / {m['fga']:.3f} / {m['fta']:.3f}"
        for m in (means[r] for r in runs)
    ]
    out.append("| **mean** | " + " | ".join(cells) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

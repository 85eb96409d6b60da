"""How long storing 1,000 incidents takes, in SQLite and in PostgreSQL (target: <= 10 s).

Incidents are realistic in size (tests/store/store_samples.py: a diagnosis with five
hypotheses, four remediation steps, three commands, ten evidence lines, 20 cited lines, three
signals, two templates). Three cases per backend, each on a fresh database:

* ``new``: one analysis finding 1,000 incidents never seen before (one transaction);
* ``recurring``: the same 1,000 fingerprints found again in new logs (history looked up,
  rows updated, 1,000 more occurrences);
* ``10 x 100``: ten analyses of 100 new incidents each (ten commits, each fsynced on SQLite).

``python bench/store_speed.py [--write docs/benchmarks.md] [--pg URL]``; PostgreSQL is measured
when a server answers at the URL (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``),
in a throwaway database dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from aiops_copilot.report.incidents_json import incident_to_dict
from aiops_copilot.store import Store
from store.store_samples import T0, make_incident, make_result

N = 1000
TARGET_S = 10.0
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _prepare(case: str, store: Store) -> Callable[[], None]:
    """The timed action for ``case``; building the incidents (and, for ``recurring``, their
    first sighting) happens here, outside the timing."""
    if case == "new":
        result = make_result([make_incident(f"n{i}") for i in range(N)])
        return lambda: _expect(store.record(result).seen_before, 0)
    if case == "recurring":
        store.record(make_result([make_incident(f"r{i}") for i in range(N)]))
        week = T0 + timedelta(days=7)
        later = make_result([make_incident(f"r{i}", start=week) for i in range(N)])
        return lambda: _expect(store.record(later).recurring, N)
    batches = [
        make_result([make_incident(f"b{batch}-{i}") for i in range(N // 10)]) for batch in range(10)
    ]
    return lambda: _expect(sum(store.record(b).incidents for b in batches), N)


def _expect(value: int, wanted: int) -> None:
    if value != wanted:
        raise SystemExit(f"store_speed: expected {wanted}, got {value}")


CASES = ("new", "recurring", "10 x 100")


def measure(open_store: Callable[[], Iterator[Store]], repeats: int) -> dict[str, float]:
    """Median seconds per case over ``repeats`` fresh databases."""
    times: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(repeats):
        for case in CASES:
            with contextmanager(open_store)() as store:
                action = _prepare(case, store)
                start = time.perf_counter()
                action()
                times[case].append(time.perf_counter() - start)
    return {case: statistics.median(values) for case, values in times.items()}


def sqlite_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "aiops.db") as store:
        yield store


def pg_store_factory(server_url: str) -> Callable[[], Iterator[Store]] | None:
    server = make_url(server_url)
    try:
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError):
        return None

    def factory() -> Iterator[Store]:
        name = f"aiops_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            with Store(server.set(database=name)) as store:
                yield store
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return factory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="update this benchmarks Markdown file")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server URL")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    size = len(json.dumps(incident_to_dict(make_incident("size")), ensure_ascii=False))
    rows: list[tuple[str, dict[str, float] | None]] = [
        ("SQLite (WAL, synchronous=FULL)", measure(sqlite_store, args.repeats))
    ]
    pg = pg_store_factory(args.pg)
    rows.append(("PostgreSQL 127.0.0.1", measure(pg, args.repeats) if pg else None))
    for name, figures in rows:
        shown = (
            ", ".join(f"{case} {secs:.2f} s" for case, secs in figures.items())
            if figures
            else "not measured (no server)"
        )
        print(f"{name}: {shown}")
    worst = max((max(f.values()) for _, f in rows if f), default=0.0)
    print(f"incident JSON {size:,} bytes; worst case {worst:.2f} s (target <= {TARGET_S:.0f} s)")
    if args.write:
        from bench_doc import markdown_table, update_section

        table = markdown_table(
            ["backend", "1,000 new (1 commit)", "1,000 recurring", "10 x 100 (10 commits)"],
            [
                (name, *(f"{figures[c]:.2f} s" for c in CASES))
                if figures
                else (name, "no server", "no server", "no server")
                for name, figures in rows
            ],
        )
        body = "\n".join(
            [
                "Storing incidents as `aiops analyze` does (`Store.record`: run, incidents, "
                "occurrences, templates; history looked up in the same transaction). Command: "
                "`python bench/store_speed.py --write docs/benchmarks.md`.",
                f"Realistic incidents: {size:,} bytes of JSON each (diagnosis with five "
                "hypotheses, ten evidence lines, twenty cited lines, three signals, two "
                f"templates). Median of {args.repeats} runs, each on a fresh database. "
                f"Target: 1,000 incidents in at most {TARGET_S:.0f} s.",
                "",
                *table,
                "",
                f"Worst case {worst:.2f} s: "
                + ("within the target." if worst <= TARGET_S else "OVER the target."),
            ]
        )
        update_section(args.write, "store_speed", body)
    return 0 if worst <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())

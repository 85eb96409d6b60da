"""A separate process that stores synthetic incidents, for the concurrency and crash tests.

``python store_writer.py DB PREFIX COUNT BATCH [--shared KEY] [--no-times]`` stores COUNT
incidents named PREFIX-0, PREFIX-1 ... in batches of BATCH, one analysis (one commit) per
batch, and prints ``stored N`` (N so far) after each commit returns: the promise the crash
test holds the store to.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_samples import make_incident, make_result

from aiops_copilot.store import Store


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("prefix")
    parser.add_argument("count", type=int)
    parser.add_argument("batch", type=int)
    parser.add_argument("--shared", help="also store this key in every batch")
    parser.add_argument("--no-times", action="store_true", help="incidents without log times")
    args = parser.parse_args()
    start = None if args.no_times else make_incident("x").first_seen
    with Store(args.db) as store:
        done = 0
        while done < args.count:
            keys = [f"{args.prefix}-{i}" for i in range(done, min(args.count, done + args.batch))]
            incidents = [make_incident(key, start=start) for key in keys]
            if args.shared:
                incidents.append(make_incident(args.shared, start=None))
            store.record(make_result(incidents))
            done += len(keys)
            print(f"stored {done}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

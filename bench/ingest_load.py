"""HTTP ingest under load: N log lines pushed by concurrent clients into a real ``aiops serve``.

The server runs as its own process (``aiops serve --port 0 --no-memory`` on loopback, a
throwaway SQLite store, a token), the clients are threads here, each pushing batches of raw
Loghub-2k lines (16 systems, one source per system, formats detected as for files) in one of
the shipper protocols: ``logs`` (text/plain), ``loki`` (JSON, gzip), ``loki-protobuf``
(snappy protobuf, as Promtail sends it), ``bulk`` (Elasticsearch, one document per line),
``otlp`` (OTLP/HTTP JSON) or ``otlp-protobuf`` (the Collector's default). A client that
gets 429 waits and sends the same batch again, as a shipper does.

Then the server is asked to flush, and nothing may be lost: the records the endpoints said
they accepted must equal the records the metrics counted in, the records the worker handed
to the pipeline, the records the pipeline mined, and the records the stored windows hold.

Two runs: ``load`` (the default queue) and ``tiny queue`` (a queue of one record, so most
pushes are refused with 429 and retried; the clients retry after 50 ms rather than the
advised seconds, to keep the run short). ``--write docs/benchmarks.md`` records the figures.

``python bench/ingest_load.py [--lines 200000] [--clients 4] [--batch 1000]
[--protocol logs|loki|loki-protobuf|bulk|otlp|otlp-protobuf|all] [--write docs/benchmarks.md]``
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# The Loki protobuf body is built by the tests' encoder (Loki's messages on protobuf).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "loghub2k"
TOKEN = "bench-ingest-token"
PROTOCOLS = ("logs", "loki", "loki-protobuf", "bulk", "otlp", "otlp-protobuf")
ENDPOINTS = {
    "logs": "logs",
    "loki": "loki",
    "loki-protobuf": "loki",
    "bulk": "elasticsearch",
    "otlp": "otlp",
    "otlp-protobuf": "otlp",
}
RETRY_SECONDS = 0.05


@dataclass
class Pushed:
    """What the clients sent and what the server said about it."""

    lines: int = 0
    accepted: int = 0
    requests: int = 0
    refused: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class Checked:
    """The counts that must agree for "nothing lost"."""

    accepted: int
    metric_ingested: float
    metric_processed: float
    metric_pipeline: float
    stored: int | None
    flush_seconds: float

    @property
    def lossless(self) -> bool:
        counts = [self.metric_ingested, self.metric_processed, self.metric_pipeline]
        if self.stored is not None:
            counts.append(self.stored)
        return all(int(c) == self.accepted for c in counts)


# -- what is sent ----------------------------------------------------------------------------


def corpus() -> dict[str, list[str]]:
    """Raw lines per system, from the Loghub-2k samples shipped with the tests."""
    out = {}
    for path in sorted(DATA.glob("*.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        out[path.stem] = [line for line in lines if line.strip()]
    return out


def batches(total: int, size: int) -> Iterator[tuple[str, list[str]]]:
    """(system, lines) batches adding up to ``total`` lines, systems taking turns."""
    systems = corpus()
    cursors = dict.fromkeys(systems, 0)
    sent = 0
    for name in itertools.cycle(sorted(systems)):
        if sent >= total:
            return
        lines, start = systems[name], cursors[name]
        count = min(size, total - sent)
        chunk = [lines[(start + n) % len(lines)] for n in range(count)]
        cursors[name] = (start + count) % len(lines)
        sent += count
        yield name, chunk


def request_for(protocol: str, system: str, lines: list[str]) -> dict[str, Any]:
    """httpx keyword arguments for one batch in ``protocol``."""
    if protocol == "logs":
        return {
            "url": "/v1/logs",
            "params": {"source": f"{system}.log"},
            "content": "\n".join(lines).encode(),
            "headers": {"Content-Type": "text/plain"},
        }
    if protocol == "loki":
        now = time.time_ns()
        body = {
            "streams": [
                {
                    "stream": {"job": system.lower(), "filename": f"/var/log/{system}.log"},
                    "values": [[str(now + n), line] for n, line in enumerate(lines)],
                }
            ]
        }
        return {
            "url": "/loki/api/v1/push",
            "content": gzip.compress(json.dumps(body).encode(), 1),
            "headers": {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        }
    if protocol == "bulk":
        action = json.dumps({"create": {"_index": f"logs-{system.lower()}"}})
        docs = [
            f"{action}\n{json.dumps({'message': line, 'log': {'file': {'path': system}}})}"
            for line in lines
        ]
        return {
            "url": "/_bulk",
            "content": ("\n".join(docs) + "\n").encode(),
            "headers": {"Content-Type": "application/x-ndjson"},
        }
    if protocol == "otlp":
        attribute = {"key": "service.name", "value": {"stringValue": system.lower()}}
        records = [{"body": {"stringValue": line}} for line in lines]
        body = {
            "resourceLogs": [
                {"resource": {"attributes": [attribute]}, "scopeLogs": [{"logRecords": records}]}
            ]
        }
        return {"url": "/v1/otlp/logs", "json": body}
    if protocol == "loki-protobuf":
        from api.loki_proto_messages import promtail_body

        now = time.time_ns()
        labels = {"job": system.lower(), "filename": f"/var/log/{system}.log"}
        entries = [(now + n, line, {}) for n, line in enumerate(lines)]
        return {
            "url": "/loki/api/v1/push",
            "content": promtail_body([(labels, entries)]),
            "headers": {"Content-Type": "application/x-protobuf"},
        }
    if protocol == "otlp-protobuf":
        return {
            "url": "/v1/logs",  # the OTLP/HTTP exporter's default path
            "content": _otlp_protobuf(system, lines),
            "headers": {"Content-Type": "application/x-protobuf"},
        }
    raise ValueError(f"unknown protocol {protocol!r}")


def _otlp_protobuf(system: str, lines: list[str]) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    request = ExportLogsServiceRequest()
    resource = request.resource_logs.add()
    resource.resource.attributes.add(key="service.name", value=AnyValue(string_value=system))
    scope = resource.scope_logs.add()
    for line in lines:
        scope.log_records.add(body=AnyValue(string_value=line))
    return bytes(request.SerializeToString())


# -- pushing and checking --------------------------------------------------------------------


def push(
    url: str, token: str | None, *, lines: int, clients: int, batch: int, protocol: str
) -> Pushed:
    """Push ``lines`` lines with ``clients`` concurrent clients; 429s are retried."""
    work = iter(list(batches(lines, batch)))
    lock = threading.Lock()
    pushed = Pushed()
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=300) as session:
            while True:
                with lock:
                    item = next(work, None)
                if item is None:
                    return
                system, chunk = item
                arguments = request_for(protocol, system, chunk)
                while True:
                    response = session.post(**arguments)
                    with lock:
                        pushed.requests += 1
                    if response.status_code != 429:
                        break
                    with lock:
                        pushed.refused += 1
                    time.sleep(RETRY_SECONDS)
                with lock:
                    pushed.lines += len(chunk)
                    if response.status_code >= 300:
                        pushed.errors.append(f"{response.status_code}: {response.text[:200]}")
                    elif protocol == "logs":  # the one protocol whose answer counts records
                        pushed.accepted += int(response.json()["accepted"])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pushed.seconds = time.perf_counter() - started
    return pushed


def check(url: str, token: str | None, pushed: Pushed, protocol: str, db: Path | None) -> Checked:
    """Flush, then compare every count of records that passed through the server.

    ``/v1/logs`` answers how many records it took; the shipper protocols answer per request
    or per document (and lines of one stack trace fold into one record), so for them the
    records taken are the endpoint's counter, and every request must have had a 2xx."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as session:
        started = time.perf_counter()
        flushed = session.post("/v1/flush")
        flush_seconds = time.perf_counter() - started
        if flushed.status_code != 200:
            raise SystemExit(f"ingest_load: flush failed: {flushed.text}")
        text = session.get("/metrics").text
    endpoint = ENDPOINTS[protocol]
    ingested = metric(text, "aiops_ingest_records_total", endpoint=endpoint)
    accepted = pushed.accepted if protocol == "logs" else int(ingested)
    return Checked(
        accepted=accepted,
        metric_ingested=ingested,
        metric_processed=metric(text, "aiops_ingest_processed_records_total"),
        metric_pipeline=metric(text, "aiops_pipeline_records_total"),
        stored=stored_records(db) if db is not None else None,
        flush_seconds=flush_seconds,
    )


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.compile(rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? (\S+)$")
    for line in text.splitlines():
        match = pattern.match(line)
        if match and ",".join(sorted((match.group(1) or "").split(","))).strip(",") == wanted:
            return float(match.group(2))
    return 0.0


def stored_records(db: Path) -> int:
    """Records the stored windows hold (the live pipeline records one run per window)."""
    from sqlalchemy import func, select

    from aiops_copilot.store.schema import Run
    from aiops_copilot.store.sql import Store

    with Store(db) as store, store.engine.connect() as connection:
        return int(connection.scalar(select(func.coalesce(func.sum(Run.records), 0))) or 0)


# -- the server ------------------------------------------------------------------------------


@contextmanager
def server(folder: Path, *args: str) -> Iterator[str]:
    """``aiops serve`` in its own process; yields its base URL; SIGTERM at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOPS_")}
    env.update(
        AIOPS_API_TOKEN=TOKEN,
        HOME=str(folder),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_CONFIG_HOME=str(folder / "config"),
    )
    command = [sys.executable, "-m", "aiops_copilot", "serve", "--port", "0", "--no-memory"]
    proc = subprocess.Popen(
        [*command, "--db", str(folder / "load.db"), *args],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=folder, env=env,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        found = re.search(r"serving on (http://\S+)", first)
        if not found:
            raise SystemExit(f"ingest_load: the server did not start: {first}")
        yield found.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(300)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(
    lines: int, clients: int, batch: int, protocol: str, *, queue: int | None = None
) -> tuple[Pushed, Checked]:
    with tempfile.TemporaryDirectory(prefix="aiops-ingest-") as tmp:
        folder = Path(tmp)
        args = ["--queue", str(queue)] if queue else []
        with server(folder, *args) as url:
            pushed = push(url, TOKEN, lines=lines, clients=clients, batch=batch, protocol=protocol)
            checked = check(url, TOKEN, pushed, protocol, None)
        checked.stored = stored_records(folder / "load.db")  # after the final window
    return pushed, checked


def _line(label: str, pushed: Pushed, checked: Checked) -> str:
    rate = pushed.lines / pushed.seconds if pushed.seconds else 0.0
    total = pushed.seconds + checked.flush_seconds
    return (
        f"{label}: {pushed.lines:,} lines in {pushed.seconds:.1f} s = {rate:,.0f} lines/s "
        f"({pushed.requests:,} requests, {pushed.refused:,} refused with 429); flush "
        f"{checked.flush_seconds:.1f} s, {pushed.lines / total:,.0f} lines/s analysed; "
        f"records accepted {checked.accepted:,}, metrics {int(checked.metric_ingested):,}/"
        f"{int(checked.metric_processed):,}/{int(checked.metric_pipeline):,}, stored "
        f"{checked.stored if checked.stored is not None else '-'}: "
        + ("nothing lost" if checked.lossless and not pushed.errors else "LOST OR FAILED")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--protocol", default="logs", choices=[*PROTOCOLS, "all"])
    parser.add_argument("--tiny-lines", type=int, default=20_000)
    parser.add_argument("--write", type=Path, help="update this benchmarks Markdown file")
    args = parser.parse_args()
    args.load = os.getloadavg()[0]
    protocols = PROTOCOLS if args.protocol == "all" else (args.protocol,)
    rows: list[tuple[str, Pushed, Checked]] = []
    for protocol in protocols:
        pushed, checked = run(args.lines, args.clients, args.batch, protocol)
        rows.append((f"{protocol}, default queue", pushed, checked))
        print(_line(rows[-1][0], pushed, checked), flush=True)
    pushed, checked = run(args.tiny_lines, args.clients, args.batch, protocols[0], queue=1)
    rows.append((f"{protocols[0]}, queue of 1 record", pushed, checked))
    print(_line(rows[-1][0], pushed, checked), flush=True)
    ok = all(c.lossless and not p.errors for _, p, c in rows) and rows[-1][1].refused > 0
    if args.write:
        _write(args, rows, ok)
    return 0 if ok else 1


def _write(args: argparse.Namespace, rows: list[tuple[str, Pushed, Checked]], ok: bool) -> None:
    from bench_doc import markdown_table, update_section

    table = markdown_table(
        ["run", "lines", "pushed in", "ingest lines/s", "429s", "flush", "analysed lines/s",
         "records in = counted = analysed = stored"],
        [
            (
                label,
                p.lines,
                f"{p.seconds:.1f} s",
                f"{p.lines / p.seconds:,.0f}",
                p.refused,
                f"{c.flush_seconds:.1f} s",
                f"{p.lines / (p.seconds + c.flush_seconds):,.0f}",
                f"{c.accepted:,} = {int(c.metric_ingested):,} = {int(c.metric_pipeline):,} = "
                f"{c.stored:,}" if c.stored is not None else "-",
            )
            for label, p, c in rows
        ],
    )  # fmt: skip
    body = "\n".join(
        [
            "Raw Loghub-2k lines (16 systems, one source each) pushed over loopback into "
            f"`aiops serve --no-memory` (its own process, SQLite store) by {args.clients} "
            f"concurrent clients in batches of {args.batch:,} lines; a refused (429) batch is "
            f"sent again after {RETRY_SECONDS * 1000:.0f} ms. Then `POST /v1/flush` analyses "
            "the last window. Command: `python bench/ingest_load.py --protocol all --write "
            "docs/benchmarks.md`. Machine: "
            f"{os.cpu_count()} CPUs, server and clients sharing them (load average "
            f"{args.load:.1f} when the run began: other work on the machine slows it).",
            "",
            '"Ingest" is lines accepted per second (decoded, parsed, queued, and mined by '
            'the worker as they arrive); "analysed" includes the final window\'s analysis '
            "and storing. Records can be fewer than lines: stack traces fold into one record. "
            "`/v1/logs` answers how many records it took; the shipper protocols answer per "
            'request or document, so for them "records in" is the endpoint\'s counter, '
            "with every request answered 2xx.",
            "",
            *table,
            "",
            "Nothing lost in every run: the records the server accepted, counted "
            "(`aiops_ingest_records_total`), handed to the pipeline and stored agree."
            if ok
            else "A run LOST records or failed: see the counts above.",
        ]
    )
    update_section(args.write, "ingest_load", body)


if __name__ == "__main__":
    raise SystemExit(main())

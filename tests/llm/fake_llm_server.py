"""A real HTTP test server that speaks Ollama's and OpenAI's chat wire formats.

Why: provider contract tests must exercise real sockets, real HTTP status codes and real
timeouts, not mocks. This script is started as a subprocess by the tests; it needs only the
standard library.

Usage::

    python fake_llm_server.py --port 0 --record requests.jsonl [--mode normal] [--hang 30]

It prints ``PORT <n>`` on stdout once it listens. Endpoints:

- ``POST /api/chat`` (Ollama, ``format`` = JSON schema, ``stream: false``)
- ``POST /v1/chat/completions`` (OpenAI, ``response_format.json_schema.schema``)
- ``GET /api/tags`` and ``GET /v1/models``
- ``POST /_control`` with ``{"mode": ..., "hang": seconds?}``: switches behaviour and empties the
  record file (control requests are never recorded).

Modes: ``normal`` (answer with a JSON object valid for the requested schema, built from the
schema), ``429_then_ok`` (first chat request of the mode gets HTTP 429 with ``Retry-After: 1``,
later ones succeed), ``500`` (every request fails), ``garbage`` (non-JSON body),
``bad_content`` (valid envelope, message content not JSON), ``hang`` (sleep longer than any
client timeout before answering).

Diagnosis modes read the copilot's evidence pack out of the prompt, as a model would:
``diagnose`` (a valid diagnosis citing the pack's real ids, in the domain of its first
knowledge-base item, echoing every placeholder it saw so that restoring can be checked),
``bad_cite`` (the same, citing ``E99``, which no pack has), ``contradict`` (a different domain
than the high-confidence knowledge-base match), ``bad_then_ok`` (``bad_cite`` for the first
chat request of the mode, ``diagnose`` after). ``429_then_ok`` answers like ``diagnose`` when
the prompt holds a pack.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = (
    "normal",
    "429_then_ok",
    "500",
    "garbage",
    "bad_content",
    "hang",
    "diagnose",
    "bad_cite",
    "contradict",
    "bad_then_ok",
)
DOMAINS = ("database", "network", "application", "security", "infrastructure", "integration")
MODELS = ("tiny-test:0.5b", "qwen2.5:3b")


def sample_from_schema(schema: Any, root: Any = None) -> Any:
    """Build a value that satisfies a (simple) JSON schema: every property, first enum value."""
    root = schema if root is None else root
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        ref = str(schema["$ref"])
        node: Any = root
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return sample_from_schema(node, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_from_schema(schema[key][0], root)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: sample_from_schema(sub, root) for name, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [sample_from_schema(schema.get("items", {}), root) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "sample"


def diagnosis_from_pack(body: dict[str, Any], mode: str) -> dict[str, Any] | None:
    """The answer a cooperative model would give to an evidence-pack prompt (None: no pack)."""
    messages = body.get("messages") or []
    text = "\n".join(
        str(m.get("content", ""))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    )
    ids = list(dict.fromkeys(re.findall(r"^\[([A-Z][0-9]{1,3})\]", text, re.MULTILINE)))
    if not ids:
        return None
    header = re.search(r"^- domain: (\w+)", text, re.MULTILINE)
    kb = re.search(r"^\[K1\] \S+ \(domain (\w+)", text, re.MULTILINE)
    domain = kb.group(1) if kb else (header.group(1) if header else "application")
    if mode == "contradict":
        domain = next(d for d in DOMAINS if d != domain)
    found = list(dict.fromkeys(re.findall(r"<[A-Z]+_[0-9]+>", text)))
    placeholders = " ".join(found)
    cited = ["E99"] if mode == "bad_cite" else ids[:3]
    return {
        "domain": domain,
        "title": "Model: the pack's first item explains it",
        "root_cause": f"The fake model read {len(ids)} cited items. Values seen: {placeholders}",
        "hypotheses": [
            {
                "cause": "The cause the first item names",
                "status": "supported",
                "because": "the first item of the pack shows it",
                "evidence": cited[:2],
            }
        ],
        "remediation": [f"Check what the pack's lines name ({' '.join(found[:2])})"],
        "commands": ["echo fake-model-check", "rm -rf /var/lib/postgresql"],
        "confidence": 0.7,
        "cited": cited,
    }


class State:
    """Behaviour shared by all handler threads; switched through ``/_control``."""

    def __init__(self, record: str, mode: str, hang: float) -> None:
        self.record = record
        self.mode = mode
        self.hang = hang
        self.chat_count = 0
        self.lock = threading.Lock()
        open(record, "w").close()

    def log(self, entry: dict[str, Any]) -> None:
        with self.lock, open(self.record, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    state: State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _read_body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return raw, json.loads(raw) if raw else None
        except ValueError:
            return raw, raw.decode("utf-8", "replace")

    def _record(self, body: Any) -> None:
        self.state.log(
            {
                "method": self.command,
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "body": body,
            }
        )

    def _failure(self, is_chat: bool) -> bool:
        """Apply the current failure mode; return True when a response was already sent."""
        state = self.state
        mode = state.mode
        if mode == "hang":
            time.sleep(state.hang)
            return False
        if mode == "500":
            self._json(500, {"error": "internal error (fake)"})
            return True
        if mode == "garbage":
            self._send(200, b"<html>definitely not json")
            return True
        if mode in ("429_then_ok", "bad_then_ok") and is_chat:
            with state.lock:
                state.chat_count += 1
                first = state.chat_count == 1
            if first and mode == "429_then_ok":
                self._json(429, {"error": "rate limited (fake)"}, {"Retry-After": "1"})
                return True
        return False

    def do_GET(self) -> None:
        self._record(None)
        if self._failure(is_chat=False):
            return
        if self.path == "/api/tags":
            self._json(200, {"models": [{"name": m, "model": m} for m in MODELS]})
        elif self.path == "/v1/models":
            self._json(
                200, {"object": "list", "data": [{"id": m, "object": "model"} for m in MODELS]}
            )
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        _, body = self._read_body()
        if self.path == "/_control":
            self._control(body)
            return
        self._record(body)
        if self.path not in ("/api/chat", "/v1/chat/completions"):
            self._json(404, {"error": "not found"})
            return
        if self._failure(is_chat=True):
            return
        if not isinstance(body, dict):
            self._json(400, {"error": "body must be a JSON object"})
            return
        if self.path == "/api/chat":
            schema = body.get("format")
        else:
            schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        answer = sample_from_schema(schema) if isinstance(schema, dict) else {"answer": "sample"}
        mode = self.state.mode
        if mode == "bad_then_ok":
            mode = "bad_cite" if self.state.chat_count == 1 else "diagnose"
        if mode in ("diagnose", "bad_cite", "contradict", "429_then_ok"):
            answer = diagnosis_from_pack(body, mode) or answer
        content = "this is not json {" if self.state.mode == "bad_content" else json.dumps(answer)
        model = body.get("model", "")
        if self.path == "/api/chat":
            message = {"role": "assistant", "content": content}
            self._json(200, {"model": model, "message": message, "done": True})
        else:
            choice = {"index": 0, "message": {"role": "assistant", "content": content}}
            self._json(200, {"id": "fake-1", "object": "chat.completion", "choices": [choice]})

    def _control(self, body: Any) -> None:
        state = self.state
        mode = body.get("mode") if isinstance(body, dict) else None
        if mode not in MODES:
            self._json(400, {"error": f"mode must be one of {MODES}"})
            return
        with state.lock:
            state.mode = str(mode)
            state.hang = float(body.get("hang", state.hang))
            state.chat_count = 0
            open(state.record, "w").close()
        self._json(200, {"mode": state.mode})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--record", required=True, help="JSON-lines file of received requests")
    parser.add_argument("--mode", choices=MODES, default="normal")
    parser.add_argument("--hang", type=float, default=30.0, help="seconds to stall in hang mode")
    args = parser.parse_args(argv)

    handler = type("BoundHandler", (Handler,), {"state": State(args.record, args.mode, args.hang)})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Container logs as Kubernetes nodes store them.

* Docker ``json-file``: ``{"log":"text\\n","stream":"stderr","time":"..."}``
* CRI (containerd, CRI-O): ``<RFC3339Nano> <stream> <P|F> <text>``; ``P`` marks a partial line
  that the runtime split (kept as its own record with ``fields["partial"] = True``).

The wrapped text is often itself a JSON log line; then level, message and fields come from it.
The record timestamp is the runtime's: it is always present and monotonic per stream, unlike
whatever the application wrote (kept in ``fields`` when it differs in spelling).
"""

from __future__ import annotations

import re

from aiops_copilot.ingest.formats._util import strip_eol
from aiops_copilot.ingest.formats.base import FormatSpec
from aiops_copilot.ingest.formats.json_lines import load_object, record_from_mapping
from aiops_copilot.ingest.timeparse import parse_iso
from aiops_copilot.models import LogRecord

_CRI = re.compile(r"(\d{4}-\d\d-\d\dT\S+) (stdout|stderr) ([FP]) ?(.*)")


class K8sContainerFormat(FormatSpec):
    """Docker json-file and CRI container log lines."""

    name = "k8s_docker_json"
    aliases = ("docker", "cri", "containerd", "kubernetes")
    description = "Docker json-file {'log','stream','time'} and CRI '<ts> stdout F msg' lines"
    specificity = 0.9
    multiline = False
    mine_field_keys = True

    def parse(self, line: str) -> LogRecord | None:
        text = strip_eol(line)
        if not text:
            return None
        if text[0] == "{":
            return self._docker(text.strip())
        if text[0].isdigit():
            return self._cri(text)
        return None

    def _docker(self, text: str) -> LogRecord | None:
        data = load_object(text)
        if data is None:
            return None
        inner = data.get("log")
        stream = data.get("stream")
        if not isinstance(inner, str) or not isinstance(stream, str):
            return None
        stamp = data.get("time")
        record = self._inner(inner.rstrip("\n"), text)
        record.fields["stream"] = stream
        if isinstance(stamp, str):
            record.timestamp = parse_iso(stamp) or record.timestamp
        for key, value in data.items():
            if key not in ("log", "stream", "time"):
                record.fields.setdefault(key, value)
        return record

    def _cri(self, text: str) -> LogRecord | None:
        m = _CRI.match(text)
        if m is None:
            return None
        stamp, stream, tag, inner = m.groups()
        ts = parse_iso(stamp)
        if ts is None:
            return None
        record = self._inner(inner, text)
        record.timestamp = ts
        record.fields["stream"] = stream
        if tag == "P":
            record.fields["partial"] = True
        return record

    def _inner(self, inner: str, raw: str) -> LogRecord:
        if inner.startswith("{") and inner.rstrip().endswith("}"):
            data = load_object(inner)
            if data is not None:
                record = record_from_mapping(data, raw, self.name)
                if record.timestamp is not None:
                    record.fields["app_time"] = record.timestamp.isoformat()
                return record
        return LogRecord(message=inner, raw=raw, format=self.name)

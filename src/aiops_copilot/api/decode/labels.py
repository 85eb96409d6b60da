"""What shippers' labels and attributes mean, by name: which one is the service, the host,
the level or the file. The same conventions serve Loki labels, OTLP attributes and
Elasticsearch documents (first name present wins)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiops_copilot.api.body import scalar
from aiops_copilot.ingest.formats._util import level_of
from aiops_copilot.models import Level

SERVICE = (
    "service_name",
    "service.name",
    "service",
    "app",
    "application",
    "app_kubernetes_io_name",
    "k8s.deployment.name",
    "container",
    "container_name",
    "k8s.container.name",
    "job",
    "component",
)
HOST = (
    "host",
    "hostname",
    "host.name",
    "host_name",
    "instance",
    "node",
    "nodename",
    "k8s.node.name",
)
LEVEL = ("level", "detected_level", "severity", "severity_text", "lvl", "log.level", "loglevel")
FILE = ("filename", "log.file.path", "log_file_path", "file", "log.file.name")


def first(values: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` present in ``values`` with a plain, non-empty value."""
    for name in names:
        if name in values:
            value = scalar(values[name])
            if value:
                return value
    return None


def level_from(values: Mapping[str, Any]) -> Level:
    word = first(values, LEVEL)
    return level_of(word) if word else Level.UNKNOWN

"""Registry of the log formats the ingester knows.

``ALL_FORMATS`` is ordered from most to least specific; detection breaks exact score ties by
this order. The learned ``generic`` fallback lives in ``generic.py`` and is optional here so the
package imports even where it is absent.
"""

from __future__ import annotations

from aiops_copilot.ingest.formats.access import AccessLogFormat
from aiops_copilot.ingest.formats.android_logcat import AndroidLogcatFormat
from aiops_copilot.ingest.formats.apache_error import ApacheErrorFormat
from aiops_copilot.ingest.formats.base import FormatSpec, LineParser
from aiops_copilot.ingest.formats.journalctl import JournalctlFormat
from aiops_copilot.ingest.formats.json_lines import JsonFormat
from aiops_copilot.ingest.formats.k8s import K8sContainerFormat
from aiops_copilot.ingest.formats.log4j import Log4jFormat
from aiops_copilot.ingest.formats.logfmt import LogfmtFormat
from aiops_copilot.ingest.formats.mysql import MysqlFormat
from aiops_copilot.ingest.formats.nginx_error import NginxErrorFormat
from aiops_copilot.ingest.formats.plain import PlainFormat
from aiops_copilot.ingest.formats.postgresql import PostgresqlFormat
from aiops_copilot.ingest.formats.python_logging import PythonLoggingFormat
from aiops_copilot.ingest.formats.redis import RedisFormat
from aiops_copilot.ingest.formats.syslog_rfc3164 import SyslogRfc3164Format
from aiops_copilot.ingest.formats.syslog_rfc5424 import SyslogRfc5424Format

__all__ = ["ALL_FORMATS", "FormatSpec", "LineParser", "format_names", "get_format"]

ALL_FORMATS: list[FormatSpec] = [
    SyslogRfc5424Format(),
    K8sContainerFormat(),
    AccessLogFormat(),
    NginxErrorFormat(),
    ApacheErrorFormat(),
    PostgresqlFormat(),
    MysqlFormat(),
    RedisFormat(),
    AndroidLogcatFormat(),
    JournalctlFormat(),
    SyslogRfc3164Format(),
    LogfmtFormat(),
    JsonFormat(),
    Log4jFormat(),
    PythonLoggingFormat(),
]

try:  # written separately; absent in some checkouts
    from aiops_copilot.ingest.formats.generic import GenericFormat
except ImportError:  # pragma: no cover - depends on the tree
    pass
else:
    ALL_FORMATS.append(GenericFormat())

ALL_FORMATS.append(PlainFormat())


def _index() -> dict[str, FormatSpec]:
    names: dict[str, FormatSpec] = {}
    for spec in ALL_FORMATS:
        names[spec.name] = spec
    for spec in ALL_FORMATS:
        for alias in getattr(spec, "aliases", ()):
            names.setdefault(alias, spec)
    return names


_BY_NAME = _index()


def format_names() -> list[str]:
    """Canonical format names, in registry order (aliases are accepted by :func:`get_format`)."""
    return [spec.name for spec in ALL_FORMATS]


def get_format(name: str) -> FormatSpec:
    """Look a format up by name or alias (case-insensitive, ``-`` same as ``_``)."""
    key = name.strip().lower().replace("-", "_")
    spec = _BY_NAME.get(key)
    if spec is None:
        raise KeyError(f"unknown log format {name!r}; valid formats: {', '.join(format_names())}")
    return spec

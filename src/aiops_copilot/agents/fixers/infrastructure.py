"""The infrastructure fixer: the host and container resources software runs on.

Its extractors name the resource that ran out or refused (disk space, inodes, a read-only
filesystem, memory and the OOM killer, cgroup limits, file descriptors, process slots, ports,
file permissions), where (path, directory, mount, cgroup, port), the limit that was hit when
the logs state it (ulimit/RLIMIT, cgroup limit, pids.max, worker_rlimit_nofile), and which
process hit it — so the fix is a concrete command, not "check the server".
"""

from __future__ import annotations

import posixpath
from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of
from aiops_copilot.models import Domain

#: Resource, and how logs say it ran out; most specific first.
RESOURCES = (
    (
        "read-only filesystem",
        r"Read-only file system|\bEROFS\b|\(30:|errno 30|remounting filesystem read-only",
    ),
    (
        "disk space",
        r"No space left on device|\bENOSPC\b|disk full|Short write while writing|"
        r"could not extend file|wrote only \d+ of \d+ bytes|Disk quota exceeded|\bEDQUOT\b|"
        r"flood[- ]stage",
    ),
    (
        "memory",
        r"invoked oom-killer|Out of memory|Killed process \d+|oom-kill:|OOMKilled|"
        r"Memory cgroup out of memory|exit code 137",
    ),
    (
        "file descriptors",
        r"Too many open files|\bEMFILE\b|\bENFILE\b|\(24:|errno 24|"
        r"accept\(\) out of system resource|worker_connections are not enough|file-max",
    ),
    (
        "process slots",
        r"could not fork|fork failed|cannot fork|fork: Resource temporarily unavailable|"
        r"can't create new thread|unable to create (?:new )?native thread|pids\.max",
    ),
    ("port", r"Address already in use|\bEADDRINUSE\b|\(98:|port is already allocated"),
    ("permissions", r"Permission denied|\bEACCES\b|Operation not permitted|\bEPERM\b|\(13:"),
)
_PATH = (
    r"open\(\) \"(/[^\"]+)\"",
    r"temp RDB file (\S+) \(in server root dir (?:\S+)\)",
    r"file \"(/[^\"]+)\"",
    r"(?:file|directory|dir|upload)\s+'?\"?(/[\w./@+-]+)",
    r"\"(/[\w./@+-]{3,})\"",
    r"'(/[\w./@+-]{3,})'",
)


def _path(ev: Evidence, resource: str | None) -> tuple[str | None, str | None]:
    """The path the failure names, and the directory it lives in."""
    directory = ev.first(r"server root dir (\S+?)\)")
    path = None
    for pattern in _PATH:
        path = ev.first(pattern)
        if path:
            break
    if path and directory and not path.startswith("/"):
        path = posixpath.join(directory, path)
    if path and not directory:
        directory = posixpath.dirname(path) or None
    if not path and resource == "disk space":
        path = ev.first(r"could not (?:extend|write to) file \"([^\"]+)\"")
    return path, directory


@register(Domain.INFRASTRUCTURE)
class InfrastructureFixer(SpecialistFixer):
    domain = Domain.INFRASTRUCTURE
    name = "infrastructure-fixer"
    software = frozenset(
        {
            "linux",
            "linux-kernel",
            "systemd",
            "docker",
            "kubernetes",
            "disk",
            "file-descriptors",
            "ports",
            "permissions",
            "cron",
            "chrony",
            "systemd-timesyncd",
        }
    )
    formats = frozenset({"syslog_rfc3164", "syslog_rfc5424", "journalctl", "k8s_docker_json"})
    keywords = tuple(pattern for _, pattern in RESOURCES)
    defer = (r"Failed password|Invalid user|NOT in sudoers|brute",)

    def extract(self, ev: Evidence) -> dict[str, Any]:
        resource = next((name for name, pattern in RESOURCES if ev.has(pattern)), None)
        facts: dict[str, Any] = {"resource": resource}
        counts = {name: ev.count(pattern) for name, pattern in RESOURCES}
        facts["resource_errors"] = counts.get(resource or "") or None
        path, directory = _path(ev, resource)
        facts["path"] = path
        facts["directory"] = directory
        facts["process"] = first_of(
            ev.first(r"Killed process \d+ \(([^)]+)\)"),
            ev.first(r"exited: ([\w.-]+) \(terminated by SIGKILL"),
            ev.first(r"(\S+) invoked oom-killer"),
            next(
                (
                    s
                    for s in ev.incident.services
                    if s
                    and s[:1].isalpha()
                    and s not in ("file", "exited", "stopped", "result", "asyncio")
                ),
                None,
            ),
        )
        formats = set(ev.incident.formats)
        facts["software"] = first_of(
            "PostgreSQL"
            if "postgresql" in formats or ev.has(r"postgres|pg_ctl|postmaster|checkpointer")
            else None,
            "Redis" if "redis" in formats or ev.has(r"redis|\bRDB\b|\bAOF\b|MISCONF") else None,
            "nginx" if "nginx_error" in formats or ev.has(r"\bnginx\b") else None,
            "MySQL" if "mysql" in formats or ev.has(r"mysqld|mariadbd|InnoDB") else None,
            "Docker" if ev.has(r"dockerd|containerd") else None,
        )
        killed = first_of(
            ev.first(r"Killed process \d+ \(([^)]+)\)"),
            ev.first(r"exited: ([\w.-]+) \(terminated by"),
        )
        facts["service"] = first_of(killed, facts["software"], facts["process"], "the process")
        # Memory and the OOM killer.
        facts["oom_kills"] = ev.count(r"Killed process \d+|oom-kill:|OOMKilled") or None
        facts["killed_process"] = first_of(
            ev.first(r"Killed process \d+ \(([^)]+)\)"), ev.first(r"task=([\w.-]+),")
        )
        facts["cgroup"] = first_of(
            ev.first(r"oom_memcg=([^,\s]+)"), ev.first(r"task_memcg=([^,\s]+)")
        )
        facts["memcg_oom"] = ev.has(r"CONSTRAINT_MEMCG|Memory cgroup out of memory|memcg") or None
        limit = ev.first(r"memory: usage \d+kB, limit (\d+)kB")
        facts["mem_limit"] = (
            f"{int(limit) // 1024} MiB"
            if limit and limit.isdigit()
            else first_of(
                ev.first(r"memory\.max[=: ]+(\S+)"), ev.first(r"limit_in_bytes[=: ]+(\S+)")
            )
        )
        rss = ev.first(r"anon-rss:(\d+)kB")
        facts["process_rss"] = f"{int(rss) // 1024} MiB" if rss and rss.isdigit() else None
        facts["supervisor_restarts"] = (
            ev.count(
                r"terminated by SIGKILL; not expected|Back-off restarting|"
                r"restarting failed container|Scheduled restart job|spawned:"
            )
            or None
        )
        # File descriptors.
        facts["fd_limit"] = first_of(
            ev.first(r"RLIMIT_NOFILE[^\n]*?soft=(\d+)"),
            ev.first(r"worker_rlimit_nofile\s+(\d+)"),
            ev.first(r"(?:ulimit -n|nofile|LimitNOFILE)[= :]+(\d+)"),
            ev.first(r"getrlimit\(RLIMIT_NOFILE\): (\d+)"),
        )
        # Process slots.
        facts["pids_limit"] = first_of(
            ev.first(r"pids\.max[=: ]+(\d+)"), ev.first(r"max user processes[^\d]*(\d+)")
        )
        facts["eagain"] = ev.has(r"Resource temporarily unavailable|\bEAGAIN\b") or None
        # Ports.
        facts["port"] = first_of(
            ev.first(r"(?:listening socket|bind\(\) to) [\w.:\[\]]*:(\d{2,5})"),
            ev.first(r"Failed listening on port (\d+)"),
            ev.first(r"port (\d{2,5})[^\n]*(?:already in use|already allocated)"),
            ev.first(r"[\d.]+:(\d{2,5})[^\n]*Address already in use"),
        )
        facts["bind_address"] = ev.first(r"(?:listening socket|bind\(\) to) ([\w.:\[\]]+:\d{2,5})")
        facts["bind_failures"] = ev.count(r"Address already in use|EADDRINUSE") or None
        # Consequences worth naming next to the cause.
        facts["consequence"] = first_of(
            "Redis could not write its append-only file (AOF) and refused writes (MISCONF)"
            if ev.has(r"\bAOF\b")
            else None,
            "Redis stopped accepting writes (MISCONF) because background saves (bgsave) of its RDB "
            "snapshot failed"
            if ev.has(r"MISCONF|Background saving error")
            else None,
            "the server could not start"
            if ev.has(r"could not start server|aborting|contains errors")
            else None,
            "the checkpointer failed and the server shut down"
            if ev.has(r"PANIC|checkpoint request failed")
            else None,
            "requests failed with HTTP 500" if ev.has(r"HTTP/\d(?:\.\d)?\"?\s+500\b") else None,
        )
        facts["ext_fs_errors"] = (
            ev.count(r"EXT4-fs error|XFS \(\w+\): .*(?:shut|error)|I/O error") or None
        )
        return facts

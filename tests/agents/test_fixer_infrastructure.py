"""The infrastructure fixer, table-driven: disk, read-only filesystems, OOM kills, descriptors,
process slots, ports and permissions."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixer_cases import Case, check_case, check_eval_case, eval_params
from fixer_helpers import incident_from_lines

from aiops_copilot.agents.base import fixers
from aiops_copilot.models import Domain

D = Domain.INFRASTRUCTURE

CASES = [
    Case(
        "postgres-disk-full",
        [
            'ERROR:  could not extend file "base/16384/16386": No space left on device\n'
            "HINT:  Check free disk space.",
            'PANIC:  could not write to file "pg_wal/xlogtemp.31": No space left on device',
        ],
        counts=[4, 1],
        formats=["postgresql"],
        problem="disk-full",
        facts={"resource": "disk space", "software": "PostgreSQL"},
        says=["no space left on device", "filesystem"],
        supported="too small for what is being written",
    ),
    Case(
        "read-only-remount",
        [
            'open() "/data/uploads/tmp/0000000007" failed (30: Read-only file system)',
            "OSError: [Errno 30] Read-only file system: '/data/uploads/a.bin'",
        ],
        counts=[6, 6],
        problem="read-only-filesystem",
        facts={"resource": "read-only filesystem", "directory": "/data/uploads/tmp"},
        says=["read-only file system", "/data/uploads/tmp", "remounted"],
    ),
    Case(
        "read-only-after-fs-errors",
        [
            "EXT4-fs error (device sdb1): ext4_find_entry:1455: inode #2: comm nginx: reading "
            "directory lblock 0",
            "EXT4-fs (sdb1): Remounting filesystem read-only",
            'open() "/data/x" failed (30: Read-only file system)',
        ],
        problem="read-only-filesystem",
        supported="I/O or filesystem errors",
        ruled_out="mounted or remounted read-only (a mount option",
    ),
    Case(
        "cgroup-oom-kill-loop",
        [
            "python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
            "memory: usage 65536kB, limit 65536kB, failcnt 0",
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,oom_memcg=/workers,"
            "task_memcg=/workers,task=python3,pid=2340,uid=0",
            "Memory cgroup out of memory: Killed process 2340 (python3) total-vm:75928kB, "
            "anon-rss:65152kB, file-rss:6676kB",
            "WARN exited: report-worker (terminated by SIGKILL; not expected)",
        ],
        counts=[4, 4, 4, 4, 4],
        problem="oom-kill",
        facts={"cgroup": "/workers", "mem_limit": "64 MiB", "killed_process": "python3"},
        says=["oom killer", "memory cgroup", "64 MiB"],
        supported="memory cgroup limit",
        ruled_out="whole host ran out of memory",
    ),
    Case(
        "nginx-emfile",
        [
            'open() "/srv/www/index.html" failed (24: Too many open files), client: 10.0.0.1',
            "worker_rlimit_nofile 64;",
        ],
        counts=[100, 1],
        formats=["nginx_error"],
        problem="fd-exhausted",
        facts={"fd_limit": "64", "software": "nginx"},
        says=["too many open files", "RLIMIT_NOFILE", "64"],
        supported="open-file limit",
    ),
    Case(
        "fork-eagain",
        ["LOG:  could not fork new process for connection: Resource temporarily unavailable"],
        counts=[10],
        formats=["postgresql"],
        problem="fork-failure",
        facts={"eagain": True},
        says=["could not fork", "EAGAIN", "pids.max"],
        supported="process limit",
        ruled_out="could not allocate memory",
    ),
    Case(
        "port-conflict",
        [
            "# Warning: Could not create server TCP listening socket 127.0.0.1:6380: bind: "
            "Address already in use",
            "# Failed listening on port 6380 (TCP), aborting.",
        ],
        counts=[3, 3],
        formats=["redis"],
        problem="port-in-use",
        facts={"port": "6380", "bind_address": "127.0.0.1:6380"},
        says=["address already in use", "6380"],
        supported="port conflict",
    ),
    Case(
        "permission-denied-config",
        [
            'FATAL:  could not open configuration file "/var/lib/pg/data/postgresql.conf": '
            "Permission denied",
        ],
        counts=[2],
        formats=["postgresql"],
        problem="permission-denied",
        facts={"path": "/var/lib/pg/data/postgresql.conf", "directory": "/var/lib/pg/data"},
        says=["permission denied", "postgresql.conf", "ownership"],
        supported="owned by another user",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    check_case(D, case)


@pytest.mark.parametrize("case", eval_params(D), ids=lambda p: p.name)
def test_eval_fixture(case: Path) -> None:
    check_eval_case(D, case)


def test_commands_are_filled_with_the_facts() -> None:
    from fixer_cases import diagnose

    port = diagnose(D, CASES[6].incident())
    assert "ss -ltnp 'sport = :6380'" in port.commands
    perms = diagnose(D, CASES[7].incident())
    assert any(c.startswith("ls -ld /var/lib/pg/data") for c in perms.commands)


def test_fit_prefers_infrastructure_evidence() -> None:
    fixer = fixers()[D]
    assert fixer.can_handle(CASES[4].incident()) > 0.7
    assert fixer.can_handle(incident_from_lines(["Failed password for root from 1.2.3.4"])) < 0.3

"""The database fixer: PostgreSQL, MySQL/MariaDB, Redis, MongoDB, SQLite, Elasticsearch.

Its extractors read what a DBA looks for first: which engine and database, which user and
client, how many connections were refused against which limit and who held them, the
participants of a deadlock (processes, lock types, relations, statements, rows), what a
timed-out statement was, and the engine's own error codes (SQLSTATE, MySQL numbers).
"""

from __future__ import annotations

from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of, top
from aiops_copilot.models import Domain

ENGINE_NAMES = {
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
    "redis": "Redis",
    "mongodb": "MongoDB",
    "sqlite": "SQLite",
    "elasticsearch": "Elasticsearch",
}
_FORMAT_ENGINES = {"postgresql": "postgresql", "mysql": "mysql", "redis": "redis"}
#: Words in the text that name an engine, most specific first.
_ENGINE_HINTS = (
    ("mariadb", r"mariadb|mariadbd"),
    ("postgresql", r"postgres|psycopg|\bpg_|SQLSTATE|libpq|\bpsql\b"),
    ("mysql", r"mysql|pymysql|innodb|OperationalError\(1\d{3}"),
    ("redis", r"redis|MISCONF|maxmemory|\bRDB\b|\bAOF\b"),
    ("sqlite", r"sqlite"),
    ("mongodb", r"mongo"),
    ("elasticsearch", r"elasticsearch|opensearch"),
)

_TOO_MANY = (
    r"too many clients|remaining connection slots are reserved|too many connections|"
    r"(?<![\d,.:])1040(?!\d|\.\d)|max number of clients reached|"
    r"too many open connections|connection pool exhausted"
)
_DEADLOCK = (
    r"deadlock detected|deadlock found|(?<![\d,.:])1213(?!\d|\.\d)|(?<![\d,.:])40P01(?!\d|\.\d)"
)
_LOCK_TIMEOUT = (
    r"lock timeout|lock_timeout|lock wait timeout exceeded|LockNotAvailable|"
    r"(?<![\d,.:])55P03(?!\d|\.\d)|(?<![\d,.:])1205(?!\d|\.\d)"
)
_STATEMENT_TIMEOUT = (
    r"statement timeout|statement_timeout|QueryCanceled|"
    r"(?<![\d,.:])57014(?!\d|\.\d)|max_execution_time"
)


def _engine(ev: Evidence) -> str | None:
    for software in ev.software:
        if software in ENGINE_NAMES:
            if software == "mysql" and ev.has(r"mariadb"):
                return "mariadb"
            return software
    for fmt in ev.incident.formats:
        if fmt in _FORMAT_ENGINES:
            engine = _FORMAT_ENGINES[fmt]
            return "mariadb" if engine == "mysql" and ev.has(r"mariadb") else engine
    for engine, hint in _ENGINE_HINTS:
        if ev.has(hint):
            return engine
    return None


def _connection_facts(ev: Evidence) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    refusals = ev.count(_TOO_MANY)
    if not refusals:
        return facts
    facts["refusals"] = refusals
    facts["max_connections"] = first_of(
        ev.first(r"max_connections\s*[=:]?\s*(\d+)"), ev.first(r"maxclients\s*[=:]?\s*(\d+)")
    )
    facts["reserved_slots"] = ev.has(r"reserved for (?:non-replication superuser|roles)")
    held = ev.numbers(
        r"(?:held|holding|open_conns=|open connections[=:]?|connections held:?)\s*(\d+)"
        r"(?:\s+connections)?"
    )
    facts["held_connections"] = int(max(held)) if held else None
    aborted = ev.tally(
        r"Aborted connection \d+ to db: '([^']*)' user: '([^']*)' host: '([^']*)'", 2
    )
    if aborted:
        user = aborted.most_common(1)[0][0]
        facts["aborted_connections"] = sum(aborted.values())
        facts["aborted_user"] = user
        host = ev.first(rf"Aborted connection \d+ to db: '[^']*' user: '{user}' host: '([^']*)'")
        facts["leak_client"] = f"user '{user}'" + (f" from {host}" if host else "")
    idle = ev.count(r"\bidle\b(?! timeout)(?!_in_transaction_session_timeout)")
    facts["idle_connections"] = idle or None
    # Who was refused: the clients reporting it (services) or the roles in the server's prefix.
    roles = ev.tally(r"\b([\w-]+@[\w-]+)\s+(?:FATAL|ERROR)")
    if len(roles) == 1:
        facts["refused_client"] = next(iter(roles))
    clients = [s for s in ev.incident.services if s and not s.startswith(("postgres", "mysqld"))]
    facts["clients"] = clients[:4] or None
    if not facts.get("leak_client") and facts.get("held_connections") and clients:
        facts["leak_client"] = clients[0]
    return facts


def _deadlock_facts(ev: Evidence) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    deadlocks = ev.count(_DEADLOCK)
    if not deadlocks:
        return facts
    facts["deadlocks"] = deadlocks
    waits = [
        f"{m.group(1)} waits for {m.group(2)} held by {m.group(3)}"
        for m, _ in ev.matches(r"Process (\d+) waits for (\w+) on [^;]*; blocked by process (\d+)")
    ]
    facts["lock_waits"] = list(dict.fromkeys(waits))[:4] or None
    facts["processes"] = ev.distinct(r"(?:Process|blocked by process) (\d+)")[:6] or None
    facts["lock_types"] = (
        ev.distinct(r"waits for (\w+Lock)")
        or ev.distinct(r"lock_mode (\w+)(?: locks rec)?")
        or None
    )
    facts["relations"] = (
        ev.distinct(r"relation \"(\w+)\"")
        or ev.distinct(r"table `\w+`\.`(\w+)`")
        or ev.distinct(r"\bupdate\s+(\w+)\s+set\b")
        or None
    )
    facts["statements"] = (
        ev.distinct(r"Process \d+: ((?:update|delete|insert|select)[^\n|]{0,160})")[:4] or None
    )
    facts["rows"] = ev.distinct(r"where\s+id\s*=\s*(\d+)")[:6] or None
    facts["transactions"] = ev.distinct(r"(?:TRANSACTION|transaction) (\d+)")[:4] or None
    facts["rolled_back"] = first_of(
        ev.first(r"(?:transfer|payout|job|order)\s+(\S+)\s+(?:aborted|failed)"),
        ev.first(r"WE ROLL BACK TRANSACTION \((\d)\)"),
    )
    return facts


def _timeout_facts(ev: Evidence) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    lock_timeouts = ev.count(_LOCK_TIMEOUT)
    if lock_timeouts:
        facts["lock_timeouts"] = lock_timeouts
        facts["waited_lock"] = first_of(
            ev.first(r"waiting for (\w+Lock)"), ev.first(r"(\w+ExclusiveLock)")
        )
        facts["lock_holder"] = ev.first(r"Process holding the lock: (\d+)")
    statement_timeouts = ev.count(_STATEMENT_TIMEOUT)
    if statement_timeouts:
        facts["statement_timeouts"] = statement_timeouts
        facts["parallel_workers"] = ev.count(r"\"parallel worker\"") or None
        facts["dropped_index"] = ev.first(r"DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?([\w.]+)")
    if lock_timeouts or statement_timeouts:
        facts["statement"] = first_of(
            ev.first(r"STATEMENT:\s+([^\n]{1,200})"),
            ev.first(r"LINE \d+:\s+([^\n]{1,160}?)(?:\s{2,}|\.\.\.|$)"),
        )
        facts["table"] = first_of(
            ev.first(r"\b(?:update|into|from)\s+([a-z_][\w.]*)\b(?!\s*\()"),
            ev.first(r"relation \"([\w.]+)\""),
        )
        latency = ev.numbers(r"(?:latency_ms=|after |dur_ms=)(\d+)(?:\s*ms)?")
        facts["latency_ms"] = int(max(latency)) if latency else None
    return facts


def _redis_facts(ev: Evidence) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    oom = ev.count(r"used memory > 'maxmemory'|OOM command not allowed|-OOM\b")
    if oom:
        facts["oom_rejections"] = oom
    facts["maxmemory"] = first_of(
        ev.first(r"maxmemory_human=(\S+)"), ev.first(r"maxmemory\s+(\d+\w*)")
    )
    facts["used_memory"] = ev.first(r"used_memory_human=(\S+)")
    facts["eviction_policy"] = first_of(
        ev.first(r"maxmemory-policy\s+(\S+)"), ev.first(r"\b(noeviction)\b")
    )
    keys = ev.first(r"(\d+) keys \((\d+) volatile\)", 0)
    if keys:
        facts["keys"] = ev.first(r"(\d+) keys \(\d+ volatile\)")
        facts["volatile_keys"] = ev.first(r"\d+ keys \((\d+) volatile\)")
    facts["missing_ttl"] = ev.has(r"missing (?:ex|px|ttl|expire)|without (?:a )?ttl|no ttl") or None
    misconf = ev.count(r"MISCONF")
    facts["misconf_rejections"] = misconf or None
    facts["bgsave_failures"] = ev.count(r"Background saving error|Can't save in background") or None
    facts["rdb_file"] = ev.first(r"temp RDB file (\S+)")
    facts["data_dir"] = ev.first(r"server root dir (\S+?)\)")
    facts["save_error"] = first_of(
        ev.first(r"temp RDB file \S+ \(in server root dir \S+\) for saving: ([^\n]+)"),
        ev.first(r"Can't save in background: ([^\n]+)"),
        ev.first(r"Errors writing to the AOF file: ([^\n]+)"),
    )
    return facts


@register(Domain.DATABASE)
class DatabaseFixer(SpecialistFixer):
    domain = Domain.DATABASE
    name = "database-fixer"
    software = frozenset(ENGINE_NAMES)
    formats = frozenset({"postgresql", "mysql", "redis"})
    keywords = (
        _TOO_MANY,
        _DEADLOCK,
        _LOCK_TIMEOUT,
        _STATEMENT_TIMEOUT,
        r"database is locked|SQLITE_BUSY",
        r"MISCONF|maxmemory|Background saving error",
        r"SQLSTATE|OperationalError|ProgrammingError|IntegrityError",
        r"replication|replica|wal\b|binlog",
        r"Aborted connection",
    )
    defer = (
        r"No space left on device|ENOSPC",
        r"could not fork|Resource temporarily unavailable",
        r"brute|Invalid user",
    )

    def extract(self, ev: Evidence) -> dict[str, Any]:
        engine = _engine(ev)
        facts: dict[str, Any] = {
            "engine": engine,
            "engine_name": ENGINE_NAMES.get(engine or "", "The database"),
            "lock_timeout_setting": {
                "postgresql": "lock_timeout",
                "mysql": "innodb_lock_wait_timeout",
                "mariadb": "innodb_lock_wait_timeout",
            }.get(engine or ""),
            "database": first_of(
                ev.first(r"\bdatabase[=:]\s*\"?([\w-]+)"),
                ev.first(r"to db: '([\w-]+)'"),
                ev.first(r"\b[\w-]+@([\w-]+)\s+(?:FATAL|ERROR|LOG|DETAIL|STATEMENT)"),
                ev.first(r"table `([\w-]+)`\.`\w+`"),
            ),
            "user": first_of(
                ev.first(r"\buser[=:]\s*'?\"?([\w.-]+)"),
                ev.first(r"\b([\w-]+)@[\w-]+\s+(?:FATAL|ERROR|LOG|DETAIL|STATEMENT)"),
            ),
            "server": first_of(
                ev.first(r"server at \"?([\w.:-]+)\"?,\s*port (\d+)", 0),
                ev.first(r"redis://([\w.:-]+)"),
            ),
            "sqlstate": top(ev.tally(r"SQLSTATE\[?\s*([0-9A-Z]{5})"), 3) or None,
            "error_codes": top(
                ev.tally(r"(?:Error|OperationalError|ERROR)\s*\(?\s*(1\d{3}|2\d{3})\b"), 3
            )
            or None,
            "auth_failures": ev.count(
                r"password authentication failed|Access denied for user|authentication failed"
            )
            or None,
            "locked_errors": ev.count(r"database is locked|SQLITE_BUSY") or None,
            "busy_wait_ms": ev.first(r"after (\d+) ms[^\n]*database is locked"),
            "disk_full": ev.has(r"No space left on device|ENOSPC|disk full") or None,
            "permission_denied": ev.has(r"Permission denied|EACCES") or None,
        }
        server = facts["server"]
        if isinstance(server, str) and "port" in server:
            host = ev.first(r"server at \"?([\w.:-]+?)\"?,\s*port")
            port = ev.first(r"server at \"?[\w.:-]+\"?,\s*port (\d+)")
            facts["server"] = f"{host}:{port}"
        facts.update(_connection_facts(ev))
        facts.update(_deadlock_facts(ev))
        facts.update(_timeout_facts(ev))
        if engine == "redis" or ev.has(r"redis|MISCONF|maxmemory"):
            facts.update(_redis_facts(ev))
        return facts

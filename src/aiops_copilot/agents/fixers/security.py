"""The security fixer: authentication attacks, probing, privilege escalation, policy denials.

Its extractors answer what an incident responder asks: which sources (IPs) attacked, how many
attempts and how fast (per minute), which user names were tried and whether they exist, whether
a login **succeeded after the failures** (then the account must be treated as compromised),
and which pattern it is — password brute force, user enumeration, path scanning and injection
probes, blocked admin access, or sudo escalation attempts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from aiops_copilot.agents.base import register
from aiops_copilot.agents.fixers.engine import SpecialistFixer
from aiops_copilot.agents.fixers.evidence import Evidence, first_of, top
from aiops_copilot.models import Domain

_IP = r"(?:\d{1,3}\.){3}\d{1,3}|[0-9a-f]*:[0-9a-f:]+"
#: Failed logins, strongest spelling first; the first that occurs is counted (one ssh attempt
#: writes a PAM line, a "Failed password" line and a "Connection closed" line).
FAILURES = (
    ("failed password", r"Failed (?:password|keyboard-interactive/pam|publickey) for"),
    ("password authentication failed", r"password authentication failed for user"),
    ("access denied", r"Access denied for user"),
    ("connection rejected by pg_hba.conf", r"no pg_hba\.conf entry for host"),
    (
        "basic auth failure (password mismatch / user was not found, HTTP 401)",
        r"password mismatch|was not found in \"[^\"]*\"|user \"[^\"]*\" was not found",
    ),
    ("authentication failure", r"authentication failure|FAILED LOGIN|auth(?:entication)? failed"),
)
_USERS = (
    r"Failed (?:password|keyboard-interactive/pam|publickey) for (?:invalid user )?([\w.@-]+) from",
    r"Invalid user ([\w.@-]+) from",
    r"(?:authenticating|invalid) user ([\w.@-]+) " + f"(?:{_IP})",
    r"password authentication failed for user \"([^\"]+)\"",
    r"no pg_hba\.conf entry for host \"[^\"]+\", user \"([^\"]+)\"",
    r"Access denied for user '([^']*)'",
    r"user \"([^\"]+)\"(?:: password mismatch| was not found)",
    r"\bruser=([\w.@-]+)",
    r"pam_unix\([\w-]+:auth\): authentication failure;[^\n]*\buser=([\w.@-]+)",
)
#: Attempts for user names that do not exist, one spelling per service (first found counts).
_INVALID = (
    r"Invalid user \S+ from",
    r"Role \"[^\"]+\" does not exist",
    r"was not found in",
    r"user unknown|unknown user|No such user",
)
_SOURCES = (
    # "from IP" on a line that failed (not "Accepted password for x from IP": that is the
    # outcome, not the attack's source).
    rf"(?i:fail|invalid|illegal|denied|refused|error|bad|not allowed|disconnect|closed)"
    rf"[^\n]*?\bfrom ({_IP})(?: port|\s|$|:)",
    rf"\brhost=({_IP})",
    rf"@'({_IP})'",
    rf"\bclient: ({_IP})",
    rf"\bhost=({_IP})",
    rf"\bfor host \"({_IP})\"",
    rf"(?:^|\s)({_IP}) - \S+ \[",
    rf"\buser \S+ ({_IP}) port",
)
_PROBES = (
    r"/\.env|/\.git|/\.svn|/\.DS_Store|/wp-login|/wp-admin|/xmlrpc\.php|phpmyadmin|/actuator|"
    r"/cgi-bin|/\.aws|/config\.php|\.sql\b|\.bak\b|/server-status|/vendor/phpunit|/shell|/boaform"
)
_TRAVERSAL = r"\.\./|%2e%2e|/etc/passwd|\.\.%2f"
_SQLI = (
    r"' OR '1'='1|UNION(?: ALL)? SELECT|ORDER BY \d+--|SLEEP\(\d+\)|;\s*DROP TABLE|@@version|"
    r"' --|xp_cmdshell"
)
_XSS = r"<script|%3Cscript|javascript:|onerror="
_AUTOMATED_UA = (
    r"python-requests|curl/|Go-http-client|sqlmap|nikto|nmap|zgrab|masscan|wpscan|gobuster|"
    r"dirbuster|libwww|okhttp|Wget"
)
_SENSITIVE = (
    r"/etc/shadow|useradd[^\n]*-u 0|-o -u 0|/bin/(?:ba)?sh|authorized_keys|visudo|passwd root|"
    r"chmod u\+s|/etc/sudoers"
)


def _attempts(ev: Evidence) -> tuple[str | None, int]:
    for kind, pattern in FAILURES:
        count = ev.count(pattern)
        if count:
            return kind, count
    return None, 0


def _users(ev: Evidence) -> Counter[str]:
    users: Counter[str] = Counter()
    for pattern in _USERS:
        users.update(ev.values(pattern))
    entity = ev.entity_counts("user")
    # The pipeline's counts are per line over the whole incident; keep only names the auth
    # patterns confirm (its generic regex also catches words like "user: details").
    for name in list(users):
        if entity.get(name, 0) > users[name]:
            users[name] = entity[name]
    users.pop("", None)
    return users


def _sources(ev: Evidence) -> Counter[str]:
    found: Counter[str] = Counter()
    for pattern in _SOURCES:
        found.update(ev.values(pattern))
    entity = ev.entity_counts("ip")
    for name in list(found):
        if entity.get(name, 0) > found[name]:
            found[name] = entity[name]
    return found


@register(Domain.SECURITY)
class SecurityFixer(SpecialistFixer):
    domain = Domain.SECURITY
    name = "security-fixer"
    software = frozenset(
        {
            "sshd",
            "pam",
            "sudo",
            "su",
            "selinux",
            "apparmor",
            "auditd",
            "fail2ban",
            "modsecurity",
            "vault",
            "web-access-log",
            "kubernetes",
            "aws",
        }
    )
    formats = frozenset({"syslog_rfc3164", "syslog_rfc5424", "journalctl"})
    keywords = (
        r"Failed password|Invalid user|authentication failure|Accepted password",
        r"password authentication failed|Access denied for user|no pg_hba\.conf entry",
        r"password mismatch|was not found in|access forbidden by rule",
        r"NOT in sudoers|incorrect password attempts",
        _PROBES,
        _TRAVERSAL,
        _SQLI,
        r"avc:\s+denied|apparmor=\"DENIED\"|Ban \d",
    )
    defer = (r"too many clients|Too many connections|No space left on device",)

    def extract(self, ev: Evidence) -> dict[str, Any]:
        kind, attempts = _attempts(ev)
        users = _users(ev)
        sources = _sources(ev)
        facts: dict[str, Any] = {
            "failure_kind": kind,
            "attempts": attempts or None,
            "users": top(users, 8) or None,
            "users_count": len(users) or None,
            "invalid_users": next((n for n in map(ev.count, _INVALID) if n), None),
            "source_ip": sources.most_common(1)[0][0] if sources else None,
            "sources": [f"{ip} ({n})" for ip, n in sources.most_common(5)] or None,
            "sources_count": len(sources) or None,
            "service_name": first_of(
                "SSH" if ev.has(r"sshd|ssh2|\[preauth\]") else None,
                "PostgreSQL" if ev.has(r"password authentication failed for user") else None,
                "MySQL/MariaDB" if ev.has(r"Access denied for user") else None,
                "HTTP basic auth" if ev.has(r"password mismatch|htpasswd") else None,
                "sudo" if ev.has(r"\bsudo\b") else None,
                "the web server" if ev.has(r"HTTP/\d") else None,
            ),
        }
        minutes = ev.minutes()
        if attempts and minutes:
            facts["rate_per_min"] = round(attempts / minutes, 1)
            seconds = minutes * 60
            facts["duration"] = f"{seconds:.0f} s" if seconds < 120 else f"{minutes:.1f} min"
        # A login that succeeded: the one fact that turns an attack into a breach.
        accepted = [
            (m.group(1), m.group(2), m.group(3))
            for m, _ in ev.matches(
                r"Accepted (password|keyboard-interactive/pam|publickey) for ([\w.@-]+) "
                rf"from ({_IP})"
            )
        ]
        password_logins = [a for a in accepted if a[0] != "publickey"]
        if password_logins and attempts:
            method, user, ip = password_logins[0]
            if user in users and ip not in sources:
                # The attacked account, but from another address: suspicious, not proof.
                facts["login_elsewhere"] = f"{user} from {ip}"
            if ip in sources:
                facts["compromised"] = True
                facts["accepted_user"] = user
                facts["accepted_ip"] = ip
                facts["accepted_method"] = method
                facts["accepted_logins"] = len(password_logins)
        # Privilege escalation through sudo.
        denials = ev.count(r"NOT in sudoers|incorrect password attempts|command not allowed")
        if denials or ev.has(r"pam_unix\(sudo:auth\): authentication failure"):
            facts["sudo_denials"] = denials or ev.count(r"pam_unix\(sudo:auth\)")
            facts["sudo_users"] = (
                ev.distinct(
                    r"(?:^|\s)([\w.-]+) : "
                    r"(?:user NOT in sudoers|\d+ incorrect password|command not allowed)"
                )
                or ev.distinct(
                    r"pam_unix\(sudo:auth\): authentication failure;[^\n]*ruser=([\w.-]+)"
                )
                or None
            )
            facts["sudo_commands"] = (
                ev.distinct(r"COMMAND=([^\n;]+?)\s*$")[:5]
                or ev.distinct(r"COMMAND=([^\n]+)")[:5]
                or None
            )
            facts["sensitive_commands"] = ev.distinct(f"({_SENSITIVE})")[:5] or None
        # Web probing.
        probes = ev.count(_PROBES)
        traversal = ev.count(_TRAVERSAL)
        sqli = ev.count(_SQLI)
        xss = ev.count(_XSS)
        if probes or traversal or sqli or xss:
            facts["probe_count"] = probes + traversal + sqli + xss
            found = [
                name
                for name, n in (
                    ("sensitive files and CMS/admin paths", probes),
                    ("path traversal", traversal),
                    ("SQL injection", sqli),
                    ("cross-site scripting", xss),
                )
                if n
            ]
            facts["probe_kinds"] = found
            facts["probe_examples"] = (
                ev.distinct(r"(?:GET|POST|HEAD) (\S*(?:" + _PROBES + "|" + _TRAVERSAL + r")\S*)")[
                    :5
                ]
                or None
            )
            facts["sqli_examples"] = (
                ev.distinct(
                    r"(' OR '1'='1|UNION(?: ALL)? SELECT [\w@,]{1,30}|SLEEP\(\d+\)|ORDER BY \d+--|"
                    r";\s*DROP TABLE \w+)"
                )[:3]
                or None
            )
        forbidden = ev.count(r"access forbidden by rule|client denied by server configuration")
        if forbidden or ev.has(r"HTTP/\d(?:\.\d)?\"?\s+403\b"):
            facts["forbidden"] = forbidden or ev.count(r"HTTP/\d(?:\.\d)?\"?\s+403\b")
            facts["forbidden_area"] = first_of(
                ev.first(r"request: \"\w+ (/[\w.-]+/)"),
                ev.first(r"(?:GET|POST) (/[\w.-]+/)\S* HTTP/\d(?:\.\d)?\"?\s+403"),
            )
        facts["user_agent"] = first_of(ev.first(f'"([^"]*(?:{_AUTOMATED_UA})[^"]*)"'))
        facts["automated_client"] = bool(facts["user_agent"]) or None
        facts["mac_denials"] = ev.count(r"avc:\s+denied|apparmor=\"DENIED\"") or None
        return facts

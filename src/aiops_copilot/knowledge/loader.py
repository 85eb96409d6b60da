"""Loading the knowledge base: every ``data/<domain>/*.yaml`` file, validated, ids unique.

Users can add their own folders (same layout) with ``--kb PATH`` or ``knowledge.extra_paths``;
an entry there with the same id replaces the shipped one, so a team can adjust a runbook without
forking the project.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import Domain
from aiops_copilot.yamlio import load_yaml

SHIPPED = Path(__file__).with_name("data")
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}


@dataclass(frozen=True)
class LoadProblem:
    """Something wrong with a file or an entry, located precisely enough to fix it."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class KnowledgeBase:
    entries: dict[str, Entry] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    problems: list[LoadProblem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def by_domain(self, domain: Domain | str) -> list[Entry]:
        return [e for e in self.entries.values() if e.domain == domain]

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id)

    def matching_order(self) -> list[Entry]:
        """Entries most severe first (ties by id), the order in which to try them."""
        return sorted(self.entries.values(), key=lambda e: (SEVERITY_ORDER[e.severity], e.id))


def error_line(exc: BaseException) -> str:
    """An exception as one line (the first of its message, or its type): what a broken data
    file (knowledge base, noise, context or classifier rules) is reported with."""
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def load_knowledge(extra_paths: Sequence[Path] = (), *, shipped: bool = True) -> KnowledgeBase:
    """Load the shipped entries and any extra folders; problems are collected, not raised.

    The shipped knowledge alone is parsed once per process (the CLI, the fixers and memory all
    ask for it); callers treat the result as read-only."""
    if shipped and not extra_paths:
        return _shipped_only()
    return _load(extra_paths, shipped=shipped)


@lru_cache(maxsize=1)
def _shipped_only() -> KnowledgeBase:
    from aiops_copilot.knowledge.cache import cached

    return cached(list(_yaml_files(SHIPPED)), lambda: _load((), shipped=True))


def _load(extra_paths: Sequence[Path], *, shipped: bool) -> KnowledgeBase:
    kb = KnowledgeBase()
    roots = ([SHIPPED] if shipped else []) + list(extra_paths)
    for root in roots:
        if not root.exists():
            kb.problems.append(LoadProblem(str(root), "no such file or directory"))
            continue
        for path in _yaml_files(root):
            _load_file(kb, path, replace=root != SHIPPED)
    return kb


def _yaml_files(root: Path) -> Iterable[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _load_file(kb: KnowledgeBase, path: Path, *, replace: bool) -> None:
    try:
        documents = load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        kb.problems.append(LoadProblem(str(path), f"not readable YAML: {error_line(exc)}"))
        return
    if documents is None:
        return
    if not isinstance(documents, list):
        kb.problems.append(LoadProblem(str(path), "expected a list of entries"))
        return
    folder_domain = path.parent.name if path.parent.name in Domain.__members__.values() else None
    for index, raw in enumerate(documents, start=1):
        where = f"{path}#{index}"
        try:
            entry = Entry.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = ".".join(str(p) for p in error["loc"]) or "entry"
            entry_id = raw.get("id", "?") if isinstance(raw, dict) else "?"
            kb.problems.append(LoadProblem(f"{where} ({entry_id})", f"{loc}: {error['msg']}"))
            continue
        if folder_domain is not None and entry.domain != folder_domain:
            kb.problems.append(
                LoadProblem(
                    f"{where} ({entry.id})", f"domain {entry.domain} in folder {folder_domain}"
                )
            )
            continue
        shipped_before = entry.id in kb.sources and kb.sources[entry.id].is_relative_to(SHIPPED)
        if entry.id in kb.entries and not (replace and shipped_before):
            kb.problems.append(
                LoadProblem(
                    f"{where} ({entry.id})", f"duplicate id (also in {kb.sources[entry.id]})"
                )
            )
            continue
        kb.entries[entry.id] = entry
        kb.sources[entry.id] = path


def check(kb: KnowledgeBase) -> list[LoadProblem]:
    """Every problem: load errors, then each entry's examples against its own match."""
    problems = list(kb.problems)
    for entry in kb:
        for problem in entry.self_check():
            problems.append(LoadProblem(f"{kb.sources[entry.id]} ({entry.id})", problem))
    return problems

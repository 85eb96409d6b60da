"""Runbooks into memory: the team's Markdown, YAML and text files cut into passages.

Why passages and not files: an on-call engineer needs the section about *this* failure
("Postgres › Connections › Too many clients"), not the whole Postgres runbook, and an embedding
of a whole file is an average of everything in it. So:

* **Markdown** is cut at every heading (ATX ``#`` or underlined); a passage's title is its
  heading path. A section longer than :data:`MAX_CHARS` is split between paragraphs (a single
  huge paragraph between sentences), each part keeping the title. Headings inside fenced code
  are code, not headings. Front matter is skipped.
* **YAML**: our knowledge-base entry format (one entry, a list, or ``entries:``) gives one
  passage per entry — title, root cause, remediation, commands; the simple form
  ``{title, body}`` or ``{title, steps: [...]}`` (one or a list) one per item.
* **Text** is split between paragraphs like a long Markdown section, titled by the file name.

Re-adding a file replaces its passages (ids are deterministic, and passages the edited file no
longer has are deleted first), so ``aiops kb add`` can be run again after every edit.
"""

from __future__ import annotations

import glob
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aiops_copilot.memory.vectors import Document, Hit, Kind, VectorMemory

#: A passage is cut below this many characters (between paragraphs where possible).
MAX_CHARS = 1500
MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd"})
YAML = frozenset({".yaml", ".yml"})
TEXT = frozenset({".txt", ".text", ".rst", ""})
SUPPORTED = MARKDOWN | YAML | TEXT
SEPARATOR = " › "
#: Payload ``kind`` of a team runbook passage and of a knowledge-base entry.
RUNBOOK = "runbook"
KB_ENTRY = "kb"

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class RunbookError(ValueError):
    """A file that cannot be read as a runbook; the message is one line."""


@dataclass(frozen=True)
class Chunk:
    """One passage: where it comes from, its heading path, its text."""

    source: str
    section: tuple[str, ...]
    text: str
    line: int = 1
    part: int = 0
    entry_id: str | None = None

    @property
    def title(self) -> str:
        return SEPARATOR.join(self.section)

    @property
    def key(self) -> str:
        anchor = "/".join(_slug(s) for s in self.section) or "-"
        return f"{self.source}#{anchor}@{self.part}"

    def document(self) -> Document:
        return Document(
            key=self.key,
            text=passage_text(self.title, self.text),
            payload={
                "kind": KB_ENTRY if self.entry_id else RUNBOOK,
                "source": self.source,
                "title": self.title,
                "section": list(self.section),
                "line": self.line,
                "body": self.text,
                "entry_id": self.entry_id,
            },
        )


def passage_text(title: str, body: str) -> str:
    """What is embedded and tokenised for a passage: its title, then its body."""
    return f"{title}\n{body}".strip()


# -- chunking -----------------------------------------------------------------------------------


def chunk_markdown(text: str, source: str, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Passages of a Markdown document, one per section (split further when long)."""
    lines = text.splitlines()
    start = _skip_front_matter(lines)
    stem = Path(source).stem
    path: list[tuple[int, str]] = []  # (level, heading) of the sections we are in
    body: list[str] = []
    body_line = start + 1
    chunks: list[Chunk] = []
    fence: str | None = None

    def flush() -> None:
        section = tuple(h for _, h in path) or (stem,)
        chunks.extend(_split(source, section, body, body_line, max_chars))

    index = start
    while index < len(lines):
        line = lines[index]
        fenced = _FENCE.match(line)
        if fence is not None:
            if fenced and fenced.group(1)[0] == fence[0] and len(fenced.group(1)) >= len(fence):
                fence = None
            body.append(line)
            index += 1
            continue
        if fenced:
            fence = fenced.group(1)
            body.append(line)
            index += 1
            continue
        heading = _heading(lines, index)
        if heading is None:
            body.append(line)
            index += 1
            continue
        level, title, consumed = heading
        flush()
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        index += consumed
        body = []
        body_line = index + 1
    flush()
    return chunks


def _heading(lines: Sequence[str], index: int) -> tuple[int, str, int] | None:
    """(level, title, lines used) when a heading starts at ``index``."""
    atx = _ATX.match(lines[index])
    if atx:
        title = _clean_heading(atx.group(2))
        return (len(atx.group(1)), title, 1) if title else None
    if index + 1 < len(lines) and lines[index].strip() and not lines[index].startswith("    "):
        underline = _SETEXT.match(lines[index + 1])
        # "text\n---" is a heading only when the text is not itself a list item or table.
        if underline and not re.match(r"^\s*([-*+>|]|\d+[.)])\s", lines[index]):
            level = 1 if underline.group(1)[0] == "=" else 2
            return level, _clean_heading(lines[index]), 2
    return None


def _clean_heading(text: str) -> str:
    text = re.sub(r"\{#[^}]*\}\s*$", "", text)  # {#custom-anchor}
    text = text.replace("`", "")
    # Emphasis markers around words, not the underscores inside identifiers (pg_hba, NOT_FOUND).
    text = re.sub(r"(?<!\w)[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)", "", text)
    return " ".join(text.split())


def _skip_front_matter(lines: Sequence[str]) -> int:
    if lines and lines[0].strip() == "---":
        for index in range(1, min(len(lines), 200)):
            if lines[index].strip() in ("---", "..."):
                return index + 1
    return 0


def chunk_text(text: str, source: str, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Passages of a plain text file, titled by the file's name."""
    title = Path(source).stem.replace("_", " ").replace("-", " ").strip() or "text"
    return list(_split(source, (title,), text.splitlines(), 1, max_chars))


def chunk_yaml(text: str, source: str, *, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Passages of a YAML runbook: knowledge-base entries or ``{title, body|steps}`` items."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
        raise RunbookError(f"{source}: not valid YAML ({first})") from None
    items: Any = data.get("entries", data) if isinstance(data, dict) else data
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise RunbookError(f"{source}: expected a runbook item or a list of them")
    chunks: list[Chunk] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise RunbookError(f"{source}: item {number} is not a mapping")
        title = str(item.get("title") or item.get("name") or item.get("id") or "").strip()
        if not title:
            raise RunbookError(f"{source}: item {number} has no title")
        parts = _yaml_body(item)
        if not parts:
            raise RunbookError(f"{source}: item {title!r} has no body, steps or root_cause")
        section = (Path(source).stem, title) if len(items) > 1 else (title,)
        chunks.extend(_split(source, section, parts, 1, max_chars, part_offset=0))
    return chunks


def _yaml_body(item: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key in ("root_cause", "body", "description", "summary"):
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            lines += [value.strip(), ""]
    for key, label in (("remediation", "Remediation"), ("steps", "Steps")):
        steps = item.get(key)
        if isinstance(steps, list) and steps:
            lines.append(f"{label}:")
            lines += [f"{n}. {str(s).strip()}" for n, s in enumerate(steps, start=1)]
            lines.append("")
        elif isinstance(steps, str) and steps.strip():
            lines += [steps.strip(), ""]
    commands = item.get("commands")
    if isinstance(commands, list) and commands:
        lines += [f"    $ {str(c).strip()}" for c in commands] + [""]
    return lines


def _split(
    source: str,
    section: tuple[str, ...],
    lines: Sequence[str],
    first_line: int,
    max_chars: int,
    *,
    part_offset: int = 0,
) -> Iterator[Chunk]:
    """A section's body as one passage, or several cut between paragraphs under the cap."""
    paragraphs = _paragraphs(lines, first_line)
    if not paragraphs:
        return
    current: list[str] = []
    size = 0
    start = paragraphs[0][0]
    part = part_offset
    for line_no, paragraph in paragraphs:
        for piece in _pieces(paragraph, max_chars):
            if current and size + len(piece) + 2 > max_chars:
                yield Chunk(source, section, "\n\n".join(current), start, part)
                part += 1
                current, size, start = [], 0, line_no
            current.append(piece)
            size += len(piece) + 2
    if current:
        yield Chunk(source, section, "\n\n".join(current), start, part)


def _paragraphs(lines: Sequence[str], first_line: int) -> list[tuple[int, str]]:
    """(line number, text) of each blank-line-separated paragraph, code blocks kept whole."""
    out: list[tuple[int, str]] = []
    block: list[str] = []
    start = first_line
    fence = False
    for offset, line in enumerate(lines):
        if _FENCE.match(line):
            fence = not fence
        if not line.strip() and not fence:
            if block:
                out.append((start, "\n".join(block).strip("\n")))
                block = []
            continue
        if not block:
            start = first_line + offset
        block.append(line.rstrip())
    if block:
        out.append((start, "\n".join(block).strip("\n")))
    return [(n, p) for n, p in out if p.strip()]


def _pieces(paragraph: str, max_chars: int) -> Iterator[str]:
    """A paragraph under the cap, or its sentences grouped under it (hard cut as a last
    resort: a 10 kB line of base64 is not a runbook, but must not break the ingest)."""
    if len(paragraph) <= max_chars:
        yield paragraph
        return
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:
            if current:
                yield current
                current = ""
            yield sentence[:max_chars]
            sentence = sentence[max_chars:]
        if current and len(current) + len(sentence) + 1 > max_chars:
            yield current
            current = ""
        current = f"{current} {sentence}".strip()
    if current:
        yield current


def chunk_file(path: Path, *, source: str | None = None, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """The passages of one file, by its suffix; :class:`RunbookError` when unreadable."""
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RunbookError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise RunbookError(f"{source}: cannot read ({exc.strerror or exc})") from None
    if "\x00" in text[:4096]:
        raise RunbookError(f"{source}: binary file")
    suffix = path.suffix.lower()
    if suffix in MARKDOWN:
        return chunk_markdown(text, source, max_chars=max_chars)
    if suffix in YAML:
        return chunk_yaml(text, source, max_chars=max_chars)
    return chunk_text(text, source, max_chars=max_chars)


# -- collecting files ---------------------------------------------------------------------------


@dataclass
class AddReport:
    """What ``kb add`` did: files read, passages stored, and what was skipped and why."""

    files: list[str] = field(default_factory=list)
    passages: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def expand(targets: Iterable[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files named by paths, folders (recursively, supported suffixes only) and globs."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for target in targets:
        if any(ch in target for ch in "*?[") and not Path(target).exists():
            matches = sorted(Path(m) for m in glob.glob(target, recursive=True))
            found = [m for m in matches if m.is_file() and m.suffix.lower() in SUPPORTED]
            if not found:
                skipped.append((target, "no runbook file matches"))
            files += found
            continue
        path = Path(target).expanduser()
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED - {""}
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                skipped.append((target, "no .md, .yaml or .txt files in this folder"))
            files += found
        elif path.is_file():
            files.append(path)
        else:
            skipped.append((target, "no such file or folder"))
    unique: dict[Path, None] = {}
    for file in files:
        unique.setdefault(file.resolve(), None)
    return list(unique), skipped


def add_paths(memory: VectorMemory, targets: Iterable[str]) -> AddReport:
    """Ingest runbook files into memory; a file re-added replaces its earlier passages."""
    report = AddReport()
    files, report.skipped = expand(targets)
    documents: list[Document] = []
    for path in files:
        source = str(path)
        try:
            chunks = chunk_file(path, source=source)
        except RunbookError as exc:
            report.skipped.append((source, str(exc).removeprefix(f"{source}: ")))
            continue
        fresh = {c.key for c in chunks}
        stale = memory.keys(Kind.RUNBOOKS, {"source": source}) - fresh
        if stale:
            memory.delete(Kind.RUNBOOKS, stale)
            report.removed += len(stale)
        documents += [c.document() for c in chunks]
        report.files.append(source)
    report.passages = memory.upsert(Kind.RUNBOOKS, documents)
    return report


# -- the shipped knowledge base -----------------------------------------------------------------


def kb_chunks(entries: Iterable[Any]) -> list[Chunk]:
    """One passage per knowledge-base entry: title, root cause, remediation."""
    chunks = []
    for entry in entries:
        steps = "\n".join(f"{n}. {s}" for n, s in enumerate(entry.remediation, start=1))
        body = f"{entry.root_cause.strip()}\n\nRemediation:\n{steps}".strip()
        chunks.append(Chunk(f"kb:{entry.id}", (entry.title,), body, 1, 0, entry_id=entry.id))
    return chunks


def kb_digest(chunks: Sequence[Chunk]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(f"{chunk.key}\0{chunk.title}\0{chunk.text}\0".encode())
    return digest.hexdigest()[:16]


def ensure_kb_indexed(memory: VectorMemory, entries: Iterable[Any] | None = None) -> int:
    """Index the knowledge base's entries once per model (and again when they change).

    The digest of what was indexed is kept in the collection's metadata; returns the number of
    entries written (0 when the index was current)."""
    if entries is None:
        from aiops_copilot.knowledge.loader import load_knowledge

        entries = list(load_knowledge())
    chunks = kb_chunks(entries)
    digest = kb_digest(chunks)
    try:
        if memory.metadata(Kind.RUNBOOKS).get("kb_digest") == digest:
            return 0
    except Exception:  # an older server without collection metadata: re-index (idempotent)
        pass
    memory.delete_where(Kind.RUNBOOKS, {"kind": KB_ENTRY})
    written = memory.upsert(Kind.RUNBOOKS, [c.document() for c in chunks])
    try:
        metadata = memory.metadata(Kind.RUNBOOKS)
        metadata["kb_digest"] = digest
        memory.set_metadata(Kind.RUNBOOKS, metadata)
    except Exception:
        pass
    return written


def search_runbooks(
    memory: VectorMemory,
    query: str,
    k: int = 5,
    *,
    include_kb: bool = True,
    exclude_entries: Sequence[str] = (),
) -> list[Hit]:
    """Runbook passages (and knowledge-base entries) for a query, best first."""
    if include_kb:
        ensure_kb_indexed(memory)
    where = None if include_kb else {"kind": RUNBOOK}
    exclude = {"entry_id": list(exclude_entries)} if exclude_entries else None
    return memory.search(Kind.RUNBOOKS, query, k, where=where, exclude=exclude)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "-"

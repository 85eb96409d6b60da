"""Runbooks cut into passages: Markdown by heading, YAML by item, text by paragraph."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_copilot.memory.runbooks import (
    RunbookError,
    chunk_file,
    chunk_markdown,
    chunk_text,
    chunk_yaml,
    expand,
)

MARKDOWN = """\
---
owner: db team
---
Intro text before any heading.

# Postgres

## Connections

### Too many clients

Kill idle sessions.

```sh
# not a heading: a comment in a code block
psql -c 'select 1'
```

## Disk full
Free space.

Storage
-------
Underlined heading body.
"""


def test_markdown_sections_keep_their_heading_path() -> None:
    chunks = chunk_markdown(MARKDOWN, "runbooks/pg.md")
    assert [(c.section, c.line) for c in chunks] == [
        (("pg",), 4),
        (("Postgres", "Connections", "Too many clients"), 12),
        (("Postgres", "Disk full"), 20),
        (("Postgres", "Storage"), 24),
    ]
    too_many = chunks[1]
    assert "# not a heading" in too_many.text and "Kill idle sessions." in too_many.text
    assert too_many.title == "Postgres › Connections › Too many clients"
    assert "owner" not in chunks[0].text  # front matter skipped


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("## `pg_hba.conf` rejects", "pg_hba.conf rejects"),
        ("## **Bold** and _em_ {#anchor}", "Bold and em"),
        ("### DEADLINE_EXCEEDED ###", "DEADLINE_EXCEEDED"),
    ],
)
def test_heading_markup_is_removed_but_identifiers_kept(heading: str, title: str) -> None:
    chunks = chunk_markdown(f"{heading}\n\nbody\n", "x.md")
    assert chunks[0].section == (title,)


def test_headings_without_body_give_no_passage() -> None:
    chunks = chunk_markdown("# A\n## B\n### C\ntext\n", "x.md")
    assert [c.section for c in chunks] == [("A", "B", "C")]


def test_long_section_is_split_between_paragraphs_under_the_cap() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 40 for n in range(10)]
    chunks = chunk_markdown("# Long\n\n" + "\n\n".join(paragraphs), "x.md", max_chars=600)
    assert len(chunks) > 1
    assert all(len(c.text) <= 600 for c in chunks)
    assert all(c.section == ("Long",) for c in chunks)
    assert [c.part for c in chunks] == list(range(len(chunks)))
    assert len({c.key for c in chunks}) == len(chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(p.strip() in joined for p in paragraphs)


def test_a_huge_paragraph_is_cut_by_sentences_then_hard() -> None:
    text = "Sentence one is here. " * 50 + "x" * 2000
    chunks = chunk_text(text, "notes/big-notes.txt", max_chars=500)
    assert all(len(c.text) <= 500 for c in chunks)
    assert chunks[0].section == ("big notes",)


KB_ENTRY = """\
id: pg-too-many
title: PostgreSQL has no free connection slots
root_cause: A connection leak.
remediation:
  - Find the application holding connections.
  - Add a pooler.
commands:
  - psql -c 'select count(*) from pg_stat_activity'
"""

SIMPLE_LIST = """\
- title: Restart the consumer
  steps: [Drain it, Restart it]
- title: Rotate the password
  body: Use the vault.
"""


@pytest.mark.parametrize(
    ("text", "sections", "must_contain"),
    [
        (KB_ENTRY, [("PostgreSQL has no free connection slots",)], ["connection leak", "pooler"]),
        (
            SIMPLE_LIST,
            [("ops", "Restart the consumer"), ("ops", "Rotate the password")],
            ["1. Drain it", "Use the vault."],
        ),
        (
            "entries:\n  - title: One\n    body: only entry\n",
            [("One",)],
            ["only entry"],
        ),
    ],
)
def test_yaml_runbooks(text: str, sections: list[tuple[str, ...]], must_contain: list[str]) -> None:
    chunks = chunk_yaml(text, "ops.yaml")
    assert [c.section for c in chunks] == sections
    joined = "\n".join(c.text for c in chunks)
    assert all(phrase in joined for phrase in must_contain)


@pytest.mark.parametrize(
    "text",
    ["just a string", "- title: no body\n", "- 1\n- 2\n", "key: [unclosed\n", "[]"],
)
def test_yaml_that_is_not_a_runbook_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(RunbookError) as error:
        chunk_yaml(text, "bad.yaml")
    assert "\n" not in str(error.value) and str(error.value).startswith("bad.yaml:")


def test_chunk_file_by_suffix_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# T\nbody\n")
    (tmp_path / "b.txt").write_text("plain text\n")
    (tmp_path / "c.yml").write_text("title: X\nbody: y\n")
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02")
    (tmp_path / "latin.md").write_bytes("caf\xe9".encode("latin-1"))
    assert chunk_file(tmp_path / "a.md")[0].section == ("T",)
    assert chunk_file(tmp_path / "b.txt")[0].text == "plain text"
    assert chunk_file(tmp_path / "c.yml")[0].section == ("X",)
    for name in ("bin.md", "latin.md"):
        with pytest.raises(RunbookError):
            chunk_file(tmp_path / name)


def test_expand_files_folders_and_globs(tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "a.md").write_text("# A\nx\n")
    (tmp_path / "docs" / "sub" / "b.yaml").write_text("title: B\nbody: y\n")
    (tmp_path / "docs" / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "docs" / ".hidden").mkdir()
    (tmp_path / "docs" / ".hidden" / "c.md").write_text("# C\nz\n")
    files, skipped = expand(
        [
            str(tmp_path / "docs"),
            str(tmp_path / "docs" / "a.md"),  # twice: once
            str(tmp_path / "**" / "*.yaml"),
            str(tmp_path / "missing.md"),
            str(tmp_path / "*.rst"),
        ]
    )
    assert sorted(f.name for f in files) == ["a.md", "b.yaml"]
    assert [reason for _, reason in skipped] == [
        "no such file or folder",
        "no runbook file matches",
    ]

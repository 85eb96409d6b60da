"""The Blue Gene/L knowledge (knowledge/data/infrastructure/bluegene.yaml) on real BGL lines.

The lines come from Loghub's BGL sample (tests/data/loghub2k/BGL.log: its first 300 lines;
tests/data/bgl/BGL_samples.log: one or two lines per category found later; see the NOTICEs).
Their first token is the alert label of the BG/L administrators; it is cut off before anything
is matched or analysed, as it would be absent from a real RAS log.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_copilot.analysis import AnalysisOptions, analyze, default_detectors
from aiops_copilot.detect.signatures import best_entry
from aiops_copilot.ingest.reader import ReadOptions, iter_records, open_inputs
from aiops_copilot.knowledge.loader import load_knowledge
from aiops_copilot.knowledge.schema import Entry
from aiops_copilot.models import LogRecord, Severity
from aiops_copilot.parsing.miner import Cluster, TemplateMiner

DATA = Path(__file__).parent / "data"
FIRST_300 = DATA / "loghub2k" / "BGL.log"
LATER = DATA / "bgl" / "BGL_samples.log"
KB = load_knowledge()
ENTRIES = KB.matching_order()
#: Fields before the message once the label is gone: epoch, date, node, time, node, type,
#: component, level.
HEADER_FIELDS = 8


def labelled_lines() -> list[tuple[str, str]]:
    """(label, line without the label) for every sample line."""
    out = []
    for path in (FIRST_300, LATER):
        for line in path.read_text(encoding="utf-8").splitlines():
            label, _, rest = line.partition(" ")
            out.append((label, rest))
    return out


LINES = labelled_lines()


def line_with(text: str) -> str:
    return next(rest for _, rest in LINES if text in rest)


def message_of(line: str) -> str:
    return line.split(maxsplit=HEADER_FIELDS)[HEADER_FIELDS]


def entry_for(line: str) -> Entry | None:
    """What the signature detector picks for a template whose example is this line: the most
    severe entry matching the message or the raw line."""
    return best_entry(ENTRIES, [message_of(line), line])


@pytest.mark.parametrize(
    ("text", "entry_id", "severity"),
    [
        # alert categories of the BG/L administrators: real failures
        ("data TLB error interrupt", "bluegene-data-tlb-error-interrupt", "high"),
        ("data storage interrupt", "bluegene-data-storage-interrupt", "high"),
        ("Lustre mount FAILED", "bluegene-lustre-mount-failed", "high"),
        ("rts: kernel terminated for reason", "bluegene-rts-kernel-terminated", "high"),
        ("Error receiving packet on tree network", "bluegene-tree-network-receive-error", "high"),
        ("rts panic! - stopping execution", "bluegene-rts-panic", "critical"),
        ("after LOAD_MESSAGE on CioStream", "bluegene-ciod-cio-stream-lost", "high"),
        ("Connection reset by peer", "bluegene-ciod-cio-stream-lost", "high"),
        ("Connection timed out", "bluegene-ciod-cio-stream-lost", "high"),
        (
            "failed to read message prefix on control stream",
            "bluegene-ciod-control-stream-read-failed",
            "high",
        ),
        ("failed: Input/output error", "bluegene-ciod-login-io-error", "high"),
        ("No child processes", "bluegene-ciod-node-map-resource-error", "high"),
        # the dump after an interrupt: context
        ("instruction address: 0x", "bluegene-interrupt-register-dump", "info"),
        ("exception syndrome register:", "bluegene-interrupt-register-dump", "info"),
        ("special purpose registers:", "bluegene-interrupt-register-dump", "info"),
        ("lr:00004ed0 cr:", "bluegene-interrupt-register-dump", "info"),
        ("program interrupt: illegal instruction", "bluegene-interrupt-state-dump", "info"),
        ("data store interrupt caused by dcbf", "bluegene-interrupt-state-dump", "info"),
        ("floating point instr. enabled", "bluegene-interrupt-state-dump", "info"),
        ("guaranteed instruction cache block touch.0", "bluegene-interrupt-state-dump", "info"),
        ("machine check: i-fetch", "bluegene-interrupt-state-dump", "info"),
        # status reports and counters
        ("Node card status: no ALERTs are active", "bluegene-node-card-status-report", "info"),
        ("is (are) active", "bluegene-node-card-status-report", "info"),
        ("PrepareForService shutting down", "bluegene-service-action-discovery", "info"),
        ("generating core.", "bluegene-core-dump-written", "info"),
        ("double-hummer alignment exceptions", "bluegene-alignment-exceptions", "info"),
        ("CE sym 2, at", "bluegene-corrected-error", "info"),
        ("instruction cache parity error corrected", "bluegene-corrected-error", "info"),
        ("data cache search parity error", "bluegene-corrected-error", "info"),
        # the control system complaining, hardware discovery, a retry
        ("idoproxydb hit ASSERT condition", "bluegene-idoproxy-send-assert", "low"),
        ("Node card is not fully functional", "bluegene-node-card-not-functional", "low"),
        ("Can not get assembly information", "bluegene-node-card-not-functional", "low"),
        ("NFS Mount failed on", "bluegene-nfs-mount-retrying", "low"),
        # a user's own job failing
        (
            "invalid or missing program image, Permission denied",
            "bluegene-ciod-program-load-failed",
            "low",
        ),
        ("Exec format error", "bluegene-ciod-program-load-failed", "low"),
        (
            "LOGIN chdir(/p/gb2/glosli/8M_5000K/t800) failed",
            "bluegene-ciod-login-chdir-failed",
            "low",
        ),
        ("LOGIN chdir(pwd) failed", "bluegene-ciod-login-chdir-failed", "low"),
        ("Missing or invalid fields on line", "bluegene-ciod-node-map-file-invalid", "low"),
        # no published category and no documented meaning: left to the generic detectors
        ("rts internal error", None, None),
    ],
)
def test_bgl_line_maps_to_its_category(
    text: str, entry_id: str | None, severity: str | None
) -> None:
    entry = entry_for(line_with(text))
    assert (entry.id if entry else None) == entry_id
    assert (entry.severity.value if entry else None) == severity


def test_the_label_never_changes_what_matches() -> None:
    """Entries name message text only: with or without the label column, the same entry."""
    for label, rest in LINES:
        with_label = best_entry(ENTRIES, [f"{label} {rest}"])
        without = best_entry(ENTRIES, [rest])
        assert with_label == without, rest


def test_alert_lines_are_high_and_known_normal_lines_are_not() -> None:
    """Every line the administrators tagged maps to a high or critical entry; every untagged
    line that an entry knows maps to low or info."""
    for label, rest in LINES:
        entry = entry_for(rest)
        if label != "-":
            assert entry is not None and entry.severity.rank >= Severity.HIGH.rank, rest
        elif entry is not None and entry.software == "bluegene":
            assert entry.severity.rank <= Severity.LOW.rank, rest


def test_bluegene_entries_ignore_other_software_lines() -> None:
    """A BG/L entry demoting or raising another system's line would be a silent error."""
    others = [
        "Nov 20 11:10:05 web-01 kernel: Kernel panic - not syncing: Fatal exception",
        "Nov 20 11:10:05 web-01 app[42]: ERROR retrying connection...1",
        "2026-01-01 12:00:00 ERROR data address: unknown host db.internal",
        "Jan  1 00:00:00 host systemd[1]: Started Session 1 of user root.",
    ]
    for line in others:
        entry = best_entry(ENTRIES, [line])
        assert entry is None or entry.software != "bluegene", line


def test_pipeline_alerts_the_tagged_lines_and_not_the_dumps(tmp_path: Path) -> None:
    """The first 300 BGL lines through the whole analysis, label removed: every tagged line is
    in an incident of medium or worse; no line of an interrupt dump is."""
    labels = [label for label, _ in LINES[:300]]
    log = tmp_path / "bgl.log"
    log.write_text("".join(f"{rest}\n" for _, rest in LINES[:300]), encoding="utf-8")
    seen: list[tuple[int, Cluster]] = []

    def on_record(record: LogRecord, cluster: Cluster) -> None:
        seen.append((record.line_no, cluster))

    run = open_inputs([str(log)])
    result = analyze(
        run,
        iter_records(run, ReadOptions()),
        TemplateMiner(),
        KB,
        AnalysisOptions(detectors=default_detectors()),
        on_record=on_record,
    )
    alerting = {
        ref.template_id
        for incident in result.incidents
        if incident.severity.rank >= Severity.MEDIUM.rank
        for ref in incident.templates
    }
    alerted = {line_no for line_no, cluster in seen if cluster.resolve().template_id in alerting}
    tagged = {n for n, label in enumerate(labels, start=1) if label != "-"}
    assert len(tagged) == 92
    assert tagged <= alerted
    dumps = {
        n
        for n, (_, rest) in enumerate(LINES[:300], start=1)
        if (entry := entry_for(rest)) is not None
        and entry.id in ("bluegene-interrupt-register-dump", "bluegene-interrupt-state-dump")
    }
    assert len(dumps) > 50
    assert not dumps & alerted

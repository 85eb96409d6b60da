"""The ``aiops`` command line.

Every command reports problems as one ``aiops: error: ...`` line on stderr with exit code 2
(1 for "ran but found nothing to read"), never a traceback: a person at 3 a.m. should read what
went wrong, not where in our code it happened.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from loguru import logger
from rich.console import Console
from rich.markup import escape

from aiops_copilot import __version__
from aiops_copilot.agents.crew.factory import engine_for
from aiops_copilot.api.cli import serve as serve_command
from aiops_copilot.cli_options import KbPathsOpt, LogFormatOpt, NoMemoryOpt
from aiops_copilot.config import ConfigError, LoadedConfig, effective_items, load_config
from aiops_copilot.dashboard.cli import dashboard as dashboard_command
from aiops_copilot.knowledge.cli import kb_app
from aiops_copilot.live.cli import watch as watch_command
from aiops_copilot.llm.cli import assistant_for, llm_app
from aiops_copilot.logs import setup_logging
from aiops_copilot.models import AnalysisResult, LogRecord, Severity
from aiops_copilot.notify.cli import notify_app, require_targets
from aiops_copilot.store.cli import db_app, incidents_app, learned_rules, store_result
from aiops_copilot.store.feedback_cli import feedback as feedback_command
from aiops_copilot.stream.cli import consume as consume_command

# The pipeline, the parsers and the report renderers are imported by the commands that use
# them: start-up matters for a one-shot ``aiops analyze`` (its memory worker is forked as soon
# as the command starts, and everything imported after that overlaps with it) and for --help.
if TYPE_CHECKING:
    from aiops_copilot.detect.baseline import Baseline
    from aiops_copilot.detect.stats import StatsCollector
    from aiops_copilot.ingest.reader import IngestRun, ReadOptions
    from aiops_copilot.parsing.miner import Cluster, TemplateMiner

app = typer.Typer(
    name="aiops",
    help="AI Ops Copilot: read logs, mine templates, find what went wrong.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(kb_app, name="kb")
app.add_typer(incidents_app, name="incidents")
app.add_typer(db_app, name="db")
app.command("feedback")(feedback_command)
app.add_typer(notify_app, name="notify")
app.add_typer(llm_app, name="llm")
app.command("watch")(watch_command)
app.command("serve")(serve_command)
app.command("consume")(consume_command)
app.command("dashboard")(dashboard_command)

_state: dict[str, Any] = {"verbosity": 0, "config_file": None, "quiet": False}
T = TypeVar("T")


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, then exit: the only way a command reports a problem."""
    sys.stderr.write(f"aiops: error: {message}\n")
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"aiops {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr (-vv).")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only; no progress.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Configuration file (default: aiops.toml).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    _state.update(verbosity=verbose, config_file=config, quiet=quiet)


def _load(overrides: dict[str, Any]) -> LoadedConfig:
    if _state["verbosity"]:
        overrides = {**overrides, "verbosity": _state["verbosity"]}
    try:
        loaded = load_config(config_file=_state["config_file"], overrides=overrides)
    except ConfigError as exc:
        fail(str(exc))
    setup_logging(0 if _state["quiet"] else loaded.settings.verbosity)
    _state["color"] = loaded.settings.color
    return loaded


def _console(*, stderr: bool = False) -> Console:
    """A console honouring ``color``: auto (a terminal, and NO_COLOR unset), always or never."""
    color = _state.get("color", "auto")
    if color == "always":
        return Console(stderr=stderr, force_terminal=True)
    if color == "never":
        return Console(stderr=stderr, no_color=True, highlight=False)
    return Console(stderr=stderr)


def _guarded(func: Callable[[], T]) -> T:
    """Turn the expected failures of a run into one line instead of a traceback."""
    try:
        return func()
    except BrokenPipeError:
        sys.stderr.close()
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        sys.stderr.write("aiops: interrupted\n")
        raise typer.Exit(130) from None
    except (KeyError, ValueError, OSError) as exc:
        text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        fail(str(text))


def _read_options(loaded: LoadedConfig, content_only: bool) -> ReadOptions:
    from aiops_copilot.ingest.formats import format_names
    from aiops_copilot.ingest.reader import ReadOptions

    ingest = loaded.settings.ingest
    if ingest.format is not None and ingest.format not in format_names():
        fail(f"unknown log format {ingest.format!r}; known: {', '.join(format_names())}")
    return ReadOptions(
        max_line_bytes=ingest.max_line_bytes,
        sample_lines=ingest.sample_lines,
        forced_format=ingest.format,
        content_only=content_only,
    )


def _miner(loaded: LoadedConfig) -> TemplateMiner:
    from aiops_copilot.parsing.miner import MinerConfig, TemplateMiner

    settings = loaded.settings.miner
    config = MinerConfig(
        similarity=settings.similarity,
        max_constant_values=settings.max_constant_values,
        max_clusters=settings.max_clusters,
    )
    state = settings.state_file
    if state is not None and state.exists():
        logger.info("loading miner state from {}", state)
        return TemplateMiner.load(state, config)
    return TemplateMiner(config)


def _records(run: IngestRun, options: ReadOptions, loaded: LoadedConfig) -> Iterator[LogRecord]:
    from aiops_copilot.ingest.progress import ReadProgress
    from aiops_copilot.ingest.reader import iter_records
    from aiops_copilot.ingest.sources import total_size

    # None: shown only when stderr is a terminal; the setting can only turn it off.
    enabled = None if loaded.settings.ingest.progress else False
    with ReadProgress(total_size(run.sources), enabled=enabled, quiet=_state["quiet"]) as progress:

        def advance(source: Any, count: int) -> None:
            progress.set_source(source.name)
            progress.advance(count)

        yield from iter_records(run, options, on_bytes=advance)


def _open(paths: list[str]) -> IngestRun:
    from aiops_copilot.ingest.reader import open_inputs

    run = open_inputs(paths or ["-"])
    if not run.sources:
        reasons = "; ".join(f"{s.target}: {s.reason}" for s in run.skipped) or "no input"
        fail(f"nothing to read ({reasons})")
    return run


PathsArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Files, folders, globs or - for stdin (default: stdin).", show_default=False
    ),
]
ContentOnlyOpt = Annotated[
    bool, typer.Option("--content-only", help="Each line is the message itself (no header).")
]
StateOpt = Annotated[
    Path | None, typer.Option("--state", help="Load miner state from / save it to this JSON file.")
]


FAIL_ON = ("critical", "high", "medium", "low", "info", "never")
REPORT_FORMATS = ("text", "json", "markdown", "html")


@app.command()
def analyze(
    paths: PathsArg = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Report: text (default), json, markdown or html."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when an incident this severe or worse is found: critical, high "
            "(default), medium, low, info or never.",
        ),
    ] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(
            "--baseline",
            help="Logs of normal operation: templates not seen there count as new (repeatable).",
        ),
    ] = None,
    window: Annotated[
        float | None,
        typer.Option("--window", help="Minutes within which errors group into one incident."),
    ] = None,
    log_format: LogFormatOpt = None,
    content_only: ContentOnlyOpt = False,
    top: Annotated[int, typer.Option("--top", help="Templates listed in the summary.")] = 10,
    state: StateOpt = None,
    kb_paths: KbPathsOpt = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store the run in this SQLite file or database URL (postgresql+psycopg://...)."
            " Default: AIOPS_DB_URL, store.url, ~/.local/share/aiops/aiops.db.",
            show_default=False,
        ),
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not store the run (no history either).")
    ] = False,
    no_memory: NoMemoryOpt = False,
    notify: Annotated[
        bool,
        typer.Option("--notify", help="Send new and reopened incidents to the notify targets."),
    ] = False,
    llm: Annotated[
        str | None,
        typer.Option(
            "--llm",
            help="Let a model refine the diagnoses: none (default), ollama, openai or llamacpp."
            " The API key comes from AIOPS_LLM_API_KEY or OPENAI_API_KEY.",
        ),
    ] = None,
    llm_url: Annotated[
        str | None, typer.Option("--llm-url", help="The model server's URL.")
    ] = None,
    llm_model: Annotated[
        str | None, typer.Option("--llm-model", help="Model name, or the GGUF file for llamacpp.")
    ] = None,
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help="Who asks the model: builtin (default) or crewai (extra); where the logs are"
            " mined: local (default) or dask (extra). Repeatable: --engine dask --engine crewai.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="With --engine dask: a running scheduler (tcp://HOST:8786)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="With --engine dask: worker processes of a local cluster (default: CPUs).",
        ),
    ] = None,
) -> None:
    """Find what went wrong: detect, group into incidents, route each to a fixer agent and
    report the diagnoses, worst first. Exit 0 when nothing at or above --fail-on was found,
    1 when something was, 2 on errors."""
    if as_json:
        output_format = "json"
    if output_format is not None and output_format not in REPORT_FORMATS:
        fail(f"--format must be one of {', '.join(REPORT_FORMATS)}, not {output_format!r}")
    if fail_on is not None and fail_on not in FAIL_ON:
        fail(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
    if db is not None and no_store:
        fail("--db and --no-store contradict each other")
    llm_engine, executor = _engines(engine or [])
    if scheduler is not None and workers is not None:
        fail("--scheduler uses a running cluster and --workers starts one: give one of them")
    if workers is not None and workers < 1:
        fail("--workers must be at least 1")
    loaded = _load(
        {
            "ingest.format": log_format,
            "miner.state_file": state,
            "report.format": output_format,
            "report.fail_on": fail_on,
            "detect.window_minutes": window,
            "detect.baseline": [str(p) for p in baseline] if baseline else None,
            "store.url": db,
            "store.enabled": False if no_store else None,
            "memory.enabled": False if no_memory else None,
            "llm.provider": llm,
            "llm.url": llm_url,
            "llm.model": llm_model,
            "llm.engine": llm_engine,
            "dask.enabled": None if executor is None else executor == "dask",
            "dask.scheduler": scheduler,
            "dask.workers": workers,
        }
    )
    options = _read_options(loaded, content_only)
    settings = loaded.settings
    if notify:
        require_targets(settings)
    if settings.dask.enabled:
        _require_dask()
    elif scheduler is not None or workers is not None:
        fail("--scheduler and --workers need --engine dask")
    assistant = engine_for(settings.llm, assistant_for(settings.llm))  # None with --llm none
    started_at = datetime.now(UTC)

    def work() -> int:
        from aiops_copilot.memory.runtime import recall as memory_recall

        # Memory first: a worker process gets it ready while this one reads the logs.
        with memory_recall(settings, background=True) as memory:
            from aiops_copilot.analysis import AnalysisOptions, conclude, default_detectors
            from aiops_copilot.knowledge.loader import load_knowledge
            from aiops_copilot.learning import LearnedRules

            kb = load_knowledge(kb_paths or [])
            for problem in kb.problems:
                logger.warning("knowledge base: {}", problem)
            miner = _miner(loaded)
            prepared = _baseline(settings.detect.baseline, miner, options)
            run = _open(paths or [])
            learned = learned_rules(settings.store) if settings.store.enabled else None
            result = conclude(
                run,
                _collect(run, options, miner, loaded),
                miner,
                kb,
                AnalysisOptions(
                    window_minutes=settings.detect.window_minutes,
                    top=top,
                    detectors=default_detectors(prepared),
                    memory=memory,
                    learned=learned or LearnedRules(),
                    assistant=assistant,
                ),
            )
            _save_state(loaded, miner)
            if settings.store.enabled:
                # Before the report: a recurrence is shown only once it is committed.
                store_result(result, settings.store, started_at=started_at, quiet=_state["quiet"])
            if memory is not None:
                memory.remember(result.incidents)  # after the store: its resolution notes
        _write_report(result, settings.report.format, output)
        if notify:  # after the report: a slow receiver must not delay it
            from aiops_copilot.notify.notifier import notify_result

            notify_result(result, settings)
        return exit_code(result, settings.report.fail_on)

    raise typer.Exit(_guarded(work))


ENGINES = {"builtin": "llm", "crewai": "llm", "local": "executor", "dask": "executor"}


def _engines(values: list[str]) -> tuple[str | None, str | None]:
    """``--engine`` values split into (who asks the model, where the logs are mined)."""
    chosen: dict[str, str] = {}
    for value in values:
        kind = ENGINES.get(value)
        if kind is None:
            fail(f"--engine must be one of {', '.join(ENGINES)}, not {value!r}")
        if chosen.get(kind, value) != value:
            fail(f"--engine {chosen[kind]} and --engine {value} contradict each other")
        chosen[kind] = value
    return chosen.get("llm"), chosen.get("executor")


def _require_dask() -> None:
    from aiops_copilot.distributed.cluster import DaskUnavailable, require_dask

    try:
        require_dask()
    except DaskUnavailable as exc:
        fail(str(exc))


def _collect(
    run: IngestRun, options: ReadOptions, miner: TemplateMiner, loaded: LoadedConfig
) -> StatsCollector:
    """The per-line stage: in this process, or on Dask (--engine dask). Everything before and
    after it is the same code for both."""
    settings = loaded.settings
    if not settings.dask.enabled:
        from aiops_copilot.analysis import collect

        return collect(_records(run, options, loaded), miner)
    from aiops_copilot.distributed.cluster import DaskUnavailable
    from aiops_copilot.distributed.engine import DaskRunFailed
    from aiops_copilot.distributed.runner import collect_on_dask

    try:
        return collect_on_dask(
            run,
            options,
            miner,
            settings.dask,
            progress=None if settings.ingest.progress else False,
            quiet=_state["quiet"],
        )
    except (DaskUnavailable, DaskRunFailed) as exc:
        fail(str(exc))


def exit_code(result: AnalysisResult, fail_on: str) -> int:
    """1 when an incident at or above ``fail_on`` was found (for CI and cron), else 0."""
    if fail_on == "never":
        return 0
    floor = Severity(fail_on).rank
    return 1 if any(i.severity.rank >= floor for i in result.incidents) else 0


def _baseline(paths: list[Path], miner: TemplateMiner, options: ReadOptions) -> Baseline | None:
    """Mine the baseline logs first, so the analysis knows which templates are normal."""
    from aiops_copilot.analysis import learn_baseline
    from aiops_copilot.ingest.reader import iter_records, open_inputs

    if not paths:
        return None
    run = open_inputs([str(p) for p in paths])
    if not run.sources:
        reasons = "; ".join(f"{s.target}: {s.reason}" for s in run.skipped) or "no input"
        fail(f"baseline: nothing to read ({reasons})")
    return learn_baseline(iter_records(run, options), miner)


def _write_report(result: AnalysisResult, fmt: str, output: Path | None) -> None:
    from aiops_copilot.report.html import render_html
    from aiops_copilot.report.incidents_json import render_json
    from aiops_copilot.report.markdown import render_markdown
    from aiops_copilot.report.terminal import render_terminal, render_text

    if fmt == "text" and output is None:
        render_terminal(result, _console(), err=_console(stderr=True))
        return
    if fmt == "json":
        text = render_json(result)
    elif fmt == "markdown":
        text = render_markdown(result)
    elif fmt == "html":
        text = render_html(result)
    else:
        text = render_text(result, color=False)
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    logger.info("report written to {}", output)
    if not _state["quiet"]:
        sys.stderr.write(
            f"aiops: {len(result.incidents)} incident(s); report written to {output}\n"
        )


@app.command()
def templates(
    paths: PathsArg = None,
    output: Annotated[str, typer.Option("--format", help="Output: table, json or csv.")] = "table",
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="One JSON object per input line, in input order.")
    ] = False,
    content_only: ContentOnlyOpt = False,
    log_format: LogFormatOpt = None,
    top: Annotated[int, typer.Option("--top", help="Show only the N most frequent.")] = 0,
    state: StateOpt = None,
) -> None:
    """Mine templates and list them with counts, first/last seen and an example."""
    if output not in ("table", "json", "csv"):
        fail(f"--format must be table, json or csv, not {output!r}")
    loaded = _load({"ingest.format": log_format, "miner.state_file": state})
    options = _read_options(loaded, content_only)

    def work() -> None:
        from aiops_copilot.parsing.record_mining import mine_record
        from aiops_copilot.report import templates as templates_report

        run = _open(paths or [])
        miner = _miner(loaded)
        per_line: list[Cluster] = []  # one reference per physical line, for --jsonl
        for record in _records(run, options, loaded):
            cluster = mine_record(miner, record)
            if jsonl:
                per_line.extend([cluster] * max(1, record.end_line - record.line_no + 1))
        _save_state(loaded, miner)
        if jsonl:
            templates_report.write_jsonl(per_line, sys.stdout)
            return
        rows = templates_report.rows(miner, top=top)
        if output == "json":
            typer.echo(json.dumps(rows, indent=2, default=str))
        elif output == "csv":
            templates_report.write_csv(rows, sys.stdout)
        else:
            templates_report.render_table(rows, _console(), total=miner.lines_seen)

    _guarded(work)


@app.command("formats")
def list_formats() -> None:
    """List the log formats that can be detected or forced."""
    from aiops_copilot.ingest.formats import ALL_FORMATS

    console = _console()
    for spec in ALL_FORMATS:
        console.print(f"[bold]{spec.name:<18}[/bold] {spec.description}")


@config_app.command("show")
def config_show(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Print the effective configuration and where each value came from."""
    loaded = _load({})
    items = effective_items(loaded)
    if as_json:
        payload = {
            "file": str(loaded.file) if loaded.file else None,
            "settings": {k: {"value": v, "origin": o} for k, v, o in items},
        }
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    console = _console()
    console.print(f"config file: {loaded.file or '(none found)'}")
    width = max(len(k) for k, _, _ in items)
    for key, value, origin in items:
        shown = escape(f"{key:<{width}} = {value!r:<24}")
        console.print(f"{shown} [dim]# {escape(origin)}[/dim]", highlight=False)


def _save_state(loaded: LoadedConfig, miner: TemplateMiner) -> None:
    path = loaded.settings.miner.state_file
    if path is not None:
        miner.save(path)
        logger.info("miner state saved to {}", path)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

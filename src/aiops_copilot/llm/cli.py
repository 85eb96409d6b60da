"""``aiops llm check`` and ``aiops llm audit``, and the hook ``aiops analyze --llm`` uses.

This module is imported by ``cli.py`` to register the sub-app, so it imports nothing of the
LLM machinery at the top: ``aiops analyze`` without ``--llm`` must not pay for it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from aiops_copilot.config import LlmSettings
    from aiops_copilot.llm.assist import Assistant
    from aiops_copilot.llm.audit import AuditRun

llm_app = typer.Typer(
    help="The optional model: does it answer, and what was sent to it.", no_args_is_help=True
)

ProviderOpt = Annotated[
    str | None,
    typer.Option("--llm", help="Provider: ollama, openai or llamacpp (default: llm.provider)."),
]
UrlOpt = Annotated[str | None, typer.Option("--llm-url", help="Server URL (default: llm.url).")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--llm-model", help="Model name, or the GGUF file for llamacpp."),
]


def _fail(message: str) -> NoReturn:
    from aiops_copilot.cli import fail

    fail(message)


def _settings(provider: str | None, url: str | None, model: str | None) -> LlmSettings:
    from aiops_copilot.cli import _load

    overrides = {"llm.provider": provider, "llm.url": url, "llm.model": model}
    return _load(overrides).settings.llm


def assistant_for(settings: LlmSettings) -> Assistant | None:
    """The assistant ``analyze`` runs with, or None for ``--llm none`` (nothing imported)."""
    if settings.provider == "none":
        return None
    from aiops_copilot.llm.assist import build_assistant
    from aiops_copilot.llm.providers import LlmSetupError

    try:
        return build_assistant(settings)
    except LlmSetupError as exc:
        _fail(str(exc))


@llm_app.command("check")
def check(
    provider: ProviderOpt = None,
    url: UrlOpt = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Does the provider answer? Which models does it have? How long does a tiny request take?

    Exit 0 when it answered, 1 when it did not, 2 when nothing usable is configured."""
    from aiops_copilot.llm.gate import open_provider
    from aiops_copilot.llm.providers import LlmSetupError

    settings = _settings(provider, url, model)
    if settings.provider == "none":
        _fail("no model provider configured; use --llm ollama|openai|llamacpp or llm.provider")
    try:
        gated = open_provider(settings)
    except LlmSetupError as exc:
        _fail(str(exc))
    status = gated.check()
    where = settings.url or "default URL"
    if as_json:
        payload = {
            "provider": gated.name,
            "model": gated.model,
            "url": settings.url if settings.provider != "llamacpp" else None,
            "ok": status.ok,
            "models": status.models,
            "latency_ms": status.latency_ms,
            "error": status.error,
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        head = f"{gated.name} ({where}), model {gated.model}"
        if status.ok:
            typer.echo(f"{head}: ok, tiny request {status.latency_ms:.0f} ms")
        else:
            typer.echo(f"{head}: not usable: {status.error}")
        if status.models:
            shown = ", ".join(status.models[:20])
            more = f" (+{len(status.models) - 20} more)" if len(status.models) > 20 else ""
            typer.echo(f"models: {shown}{more}")
    raise typer.Exit(0 if status.ok else 1)


@llm_app.command("audit")
def audit(
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs.")] = 1,
    full: Annotated[
        bool, typer.Option("--full/--summary", help="Show the redacted prompts (default) or not.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="The raw audit records as JSON.")] = False,
) -> None:
    """What the last run(s) sent to a model: redacted prompts, placeholders and previews.

    Placeholders are listed with their kind and a short preview; the hidden values themselves
    are never stored, so they cannot be shown."""
    from aiops_copilot.llm.audit import default_audit_path, read_runs

    path = default_audit_path()
    found = read_runs(path, runs)
    if as_json:
        typer.echo(json.dumps([_run_json(run) for run in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo(f"nothing sent to a model yet ({path} does not exist or is empty)")
        return
    for run in found:
        _print_run(run, full=full)


def _run_json(run: AuditRun) -> dict[str, Any]:
    return {
        "run": run.run_id,
        "header": run.header,
        "requests": run.requests,
        "verdicts": run.verdicts,
        "placeholder_kinds": run.placeholder_kinds,
    }


def _print_run(run: AuditRun, *, full: bool) -> None:
    header = run.header
    sent = [r for r in run.requests if not r.get("cached")]
    cached = len(run.requests) - len(sent)
    kinds = ", ".join(f"{k} {n}" for k, n in run.placeholder_kinds.items()) or "none"
    typer.echo(
        f"run {run.run_id} at {header.get('at', '?')}: {header.get('provider', '?')} "
        f"{header.get('model', '')} — {len(sent)} request(s) sent, {cached} from the cache; "
        f"placeholders: {kinds}"
    )
    for request in run.requests:
        how = "cached" if request.get("cached") else "sent"
        typer.echo(
            f"\n— {request.get('incident') or '-'} {request.get('purpose', '')} ({how}, "
            f"{request.get('chars', 0):,} chars, sha256 {str(request.get('digest', ''))[:12]})"
        )
        for entry in request.get("redactions", []):
            typer.echo(f"  {entry.get('placeholder')}  {entry.get('kind')}  {entry.get('preview')}")
        if full:
            for message in request.get("messages", []):
                typer.echo(f"  [{message.get('role')}]")
                for line in str(message.get("content", "")).splitlines():
                    typer.echo(f"    {line}")
    if run.verdicts:
        typer.echo("")
        for verdict in run.verdicts:
            detail = f": {verdict['detail']}" if verdict.get("detail") else ""
            typer.echo(f"verdict {verdict.get('incident')}: {verdict.get('outcome')}{detail}")
    typer.echo("")

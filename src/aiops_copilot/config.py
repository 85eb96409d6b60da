"""Configuration in one place: defaults < ``aiops.toml`` < ``AIOPS_*`` variables < CLI flags.

The file is looked up in the current folder, then in ``~/.config/aiops/`` (``$XDG_CONFIG_HOME``
is honoured), unless ``--config`` names one. Environment variables use ``__`` between section
and key: ``AIOPS_MINER__SIMILARITY=0.6``; ``AIOPS_DB_URL`` is the short, documented name of
``store.url`` and wins over ``AIOPS_STORE__URL``. Every effective value remembers where it came
from so ``aiops config show`` can explain a surprising setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from aiops_copilot.notify.settings import NotifySettings

CONFIG_NAME = "aiops.toml"
ENV_PREFIX = "AIOPS_"


class ConfigError(Exception):
    """A configuration problem, worded as the one line the user sees."""


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_line_bytes: int = Field(65536, ge=256, description="longer lines are cut and counted")
    sample_lines: int = Field(200, ge=10, le=100_000, description="lines read to detect a format")
    format: str | None = Field(None, description="force a format instead of detecting it")
    progress: bool = Field(True, description="progress bar on stderr when it is a terminal")


class MinerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    similarity: float = Field(0.6, gt=0.0, le=1.0, description="share of tokens that must agree")
    max_constant_values: int = Field(
        2, ge=1, le=64, description="distinct words a position may show before it is a variable"
    )
    max_clusters: int = Field(50_000, ge=100, description="cluster cap (LRU eviction)")
    state_file: Path | None = Field(None, description="load/save miner state (JSON) here")


class DetectSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window_minutes: float = Field(
        5.0, gt=0, le=1440, description="errors this close in time group into one incident"
    )
    baseline: list[Path] = Field(
        default_factory=list, description="logs of normal operation to compare against"
    )


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["text", "json", "markdown", "html"] = Field(
        "text", description="analyze output: text, json, markdown or html"
    )
    fail_on: Literal["critical", "high", "medium", "low", "info", "never"] = Field(
        "high", description="exit 1 when an incident this severe or worse is found"
    )


class StoreSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None,
        description="SQLite file path or URL (sqlite:///..., postgresql+psycopg://...); "
        "default ~/.local/share/aiops/aiops.db",
    )
    enabled: bool = Field(True, description="analyze stores its runs and incidents")
    timeout: float = Field(
        30.0, gt=0, le=3600, description="seconds to wait for a busy database or a server"
    )


class MemorySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="cite runbooks and similar past incidents; remember incidents"
    )
    path: Path | None = Field(
        None, description="Qdrant local-mode folder (default: qdrant/ beside the database)"
    )
    qdrant_url: str | None = Field(None, description="a Qdrant server instead of local mode")
    qdrant_api_key: str | None = Field(None, description="API key for the Qdrant server")
    timeout: float = Field(10.0, gt=0, le=600, description="seconds to wait for the server")
    background: bool = Field(
        True, description="open memory in a worker process while a one-shot analysis parses"
    )


class LlmSettings(BaseModel):
    """The optional model (docs/llm.md). The API key is never a setting: it is read from the
    environment variable ``api_key_env`` names (``OPENAI_API_KEY`` is tried next)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["none", "ollama", "openai", "llamacpp"] = Field(
        "none", description="none, ollama, openai (any OpenAI-compatible server) or llamacpp"
    )
    url: str | None = Field(
        None, description="server URL (default: ollama 127.0.0.1:11434, openai 127.0.0.1:8080)"
    )
    model: str | None = Field(None, description="model name, or the GGUF file for llamacpp")
    api_key_env: str = Field(
        "AIOPS_LLM_API_KEY", description="environment variable holding the openai API key"
    )
    timeout: float = Field(60.0, gt=0, le=3600, description="seconds per request")
    retries: int = Field(2, ge=1, le=10, description="attempts per request on 429/5xx/refused")
    budget_seconds: float = Field(
        300.0, gt=0, le=86400, description="model time per analysis, all requests together"
    )
    max_requests: int = Field(40, ge=1, le=10000, description="requests per analysis")
    max_in_flight: int = Field(2, ge=1, le=32, description="requests sent at the same time")
    pack_tokens: int = Field(
        2000, ge=200, le=200_000, description="evidence pack budget per incident (tokens)"
    )
    chars_per_token: float = Field(4.0, gt=0.5, le=16, description="token estimate")
    context_tokens: int = Field(
        8192, ge=512, le=1_048_576, description="llamacpp context window (n_ctx)"
    )
    kb_confidence: float = Field(
        0.8, ge=0, le=1, description="a KB match this strong may not be contradicted"
    )
    min_severity: Literal["critical", "high", "medium", "low", "info"] = Field(
        "low", description="incidents less severe keep the deterministic diagnosis only"
    )
    cache: bool = Field(True, description="reuse answers to identical requests (data dir)")
    audit: bool = Field(True, description="record what was sent (aiops llm audit)")
    redact_ips: bool = Field(True, description="hide IP addresses from the model")
    redact_hostnames: bool = Field(False, description="hide host names from the model")
    redact_emails: bool = Field(True, description="hide e-mail addresses from the model")
    engine: Literal["builtin", "crewai"] = Field(
        "builtin", description="who asks the model: builtin, or a CrewAI crew (crewai extra)"
    )


class DaskSettings(BaseModel):
    """The Dask engine (``analyze --engine dask``, docs/scaling.md): where the logs are mined."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="mine on Dask (--engine dask) instead of in-process")
    scheduler: str | None = Field(
        None, description="tcp://host:8786 of a running scheduler; default: a local cluster"
    )
    workers: int | None = Field(
        None, ge=1, le=4096, description="local cluster worker processes (default: one per CPU)"
    )
    partition_mib: float = Field(
        64.0, gt=0, le=1_048_576, description="files larger than this are cut into such parts"
    )
    retries: int = Field(2, ge=0, le=20, description="attempts after the first for a failed part")
    connect_timeout: float = Field(
        10.0, gt=0, le=3600, description="seconds to reach the scheduler and a first worker"
    )


class Settings(BaseModel):
    """The effective configuration."""

    model_config = ConfigDict(extra="forbid")

    verbosity: int = Field(0, ge=0, le=3, description="0 quiet, 1 info, 2 debug")
    color: Literal["auto", "always", "never"] = "auto"
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    miner: MinerSettings = Field(default_factory=MinerSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    dask: DaskSettings = Field(default_factory=DaskSettings)


class _EnvLayer(BaseSettings):
    """Reads the ``AIOPS_*`` variables as raw values; :class:`Settings` validates them."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore"
    )

    verbosity: str | None = None
    color: str | None = None
    ingest: dict[str, Any] = Field(default_factory=dict)
    miner: dict[str, Any] = Field(default_factory=dict)
    detect: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] = Field(default_factory=dict)
    store: dict[str, Any] = Field(default_factory=dict)
    #: ``AIOPS_DB_URL``: the documented short name for ``store.url``; it wins over
    #: ``AIOPS_STORE__URL`` and the file, and loses to ``--db``.
    db_url: str | None = None
    memory: dict[str, Any] = Field(default_factory=dict)
    notify: dict[str, Any] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)
    dask: dict[str, Any] = Field(default_factory=dict)
    #: ``AIOPS_QDRANT_URL``: the documented short name for ``memory.qdrant_url``.
    qdrant_url: str | None = None


@dataclass(frozen=True)
class LoadedConfig:
    settings: Settings
    origins: dict[str, str]
    file: Path | None


def find_config_file(explicit: Path | None = None) -> Path | None:
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = base / "aiops" / CONFIG_NAME
    return user if user.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = nested
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def load_config(
    *, config_file: Path | None = None, overrides: Mapping[str, Any] | None = None
) -> LoadedConfig:
    """Merge every layer and validate once; raise :class:`ConfigError` with one clear line."""
    path = find_config_file(config_file)
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((f"file {path}", _flatten(_read_toml(path))))
    try:
        env_values = EnvSettingsSource(_EnvLayer)()
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"environment: {exc}".splitlines()[0]) from None
    db_url = env_values.pop("db_url", None)
    qdrant_url = env_values.pop("qdrant_url", None)
    env_flat = _flatten(env_values)
    if db_url:
        env_flat["store.url"] = db_url
    if qdrant_url:
        env_flat["memory.qdrant_url"] = qdrant_url
    layers.append(("environment", env_flat))
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    layers.append(("command line", cli))

    merged: dict[str, Any] = {}
    origins = {key: "default" for key in _flatten(Settings().model_dump())}
    for origin, values in layers:
        for key, value in values.items():
            merged[key] = value
            origins[key] = origin
    try:
        settings = Settings.model_validate(_nest(merged))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        origin = origins.get(where, "configuration")
        raise ConfigError(f"{origin}: {where}: {error['msg']}") from None
    return LoadedConfig(settings=settings, origins=origins, file=path)


def effective_items(loaded: LoadedConfig) -> list[tuple[str, Any, str]]:
    """(dotted key, value, origin) for every setting, in a stable order."""
    values = _flatten(loaded.settings.model_dump())
    return [(key, values[key], loaded.origins.get(key, "default")) for key in sorted(values)]

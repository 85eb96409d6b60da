"""Configuration layers: defaults < aiops.toml < AIOPS_* < CLI flags, with origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops_copilot.config import ConfigError, effective_items, load_config


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(__import__("os").environ):
        if key.startswith("AIOPS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_defaults_when_nothing_is_set() -> None:
    loaded = load_config()
    assert loaded.file is None
    assert loaded.settings.ingest.max_line_bytes == 65536
    assert {origin for _, _, origin in effective_items(loaded)} == {"default"}


def test_each_layer_overrides_the_one_below(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / "aiops.toml").write_text(
        "[miner]\nsimilarity = 0.7\nmax_clusters = 1000\n[ingest]\nsample_lines = 50\n"
    )
    monkeypatch.setenv("AIOPS_MINER__SIMILARITY", "0.8")
    monkeypatch.setenv("AIOPS_INGEST__SAMPLE_LINES", "60")
    loaded = load_config(overrides={"ingest.sample_lines": 70, "ingest.format": None})
    s = loaded.settings
    assert (s.miner.max_clusters, s.miner.similarity, s.ingest.sample_lines) == (1000, 0.8, 70)
    assert loaded.origins["miner.max_clusters"].startswith("file ")
    assert loaded.origins["miner.similarity"] == "environment"
    assert loaded.origins["ingest.sample_lines"] == "command line"
    assert loaded.origins["ingest.format"] == "default"


def test_user_config_dir_is_used_when_no_local_file(isolated: Path) -> None:
    user = isolated / "xdg" / "aiops"
    user.mkdir(parents=True)
    (user / "aiops.toml").write_text("verbosity = 1\n")
    assert load_config().settings.verbosity == 1


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[miner\n", {}, "invalid TOML"),
        ("[miner]\nsimilarity = 'high'\n", {}, "miner.similarity"),
        ("[miner]\nbogus = 1\n", {}, "miner.bogus"),
        ("", {"AIOPS_INGEST__MAX_LINE_BYTES": "tiny"}, "environment: ingest.max_line_bytes"),
    ],
)
def test_bad_configuration_is_one_clear_line(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], message: str
) -> None:
    (isolated / "aiops.toml").write_text(toml)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_explicit_config_file(isolated: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(config_file=isolated / "nope.toml")

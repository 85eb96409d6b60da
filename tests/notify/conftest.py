"""Fixtures: a live receiver per test and a notifier wired to it with fast retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_copilot.notify.delivery import Backoff
from aiops_copilot.notify.notifier import Notifier
from aiops_copilot.notify.settings import NotifySettings
from aiops_copilot.notify.targets import resolve_targets
from notify.notify_helpers import Receiver, serve

FAST = Backoff(base=0.01, cap=0.05, jitter=0.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


@pytest.fixture
def warnings() -> list[str]:
    return []


MakeNotifier = Callable[..., Notifier]


@pytest.fixture
def make_notifier(tmp_path: Path, warnings: list[str]) -> Iterator[MakeNotifier]:
    made: list[Notifier] = []

    def make(targets: list[dict[str, Any]], **overrides: Any) -> Notifier:
        settings = NotifySettings.model_validate({"targets": targets, **overrides})
        resolved, problems = resolve_targets(settings)
        assert not problems, problems
        state = overrides.pop("state_file", None) or tmp_path / "notify-state.json"
        notifier = Notifier(
            resolved, settings, state_file=Path(state), warn=warnings.append, backoff=FAST
        )
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.close(timeout=5)

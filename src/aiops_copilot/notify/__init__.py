"""Notifications: new or reopened incidents to Slack-compatible webhooks, generic JSON webhooks
and Alertmanager, de-duplicated and rate-limited, delivered on background threads.

Use::

    notifier = Notifier.from_settings(settings)   # settings: config.Settings
    notifier.notify(incident, "new")               # cheap, never blocks; also on_incident(...)
    notifier.close()                               # drain (bounded), save the dedup state

The package imports nothing heavy until :class:`Notifier` is asked for, because
``config.py`` imports :mod:`aiops_copilot.notify.settings` on every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiops_copilot.notify.notifier import Notifier, change_of, notify_result

__all__ = ["Notifier", "change_of", "notify_result"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from aiops_copilot.notify import notifier

        return getattr(notifier, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

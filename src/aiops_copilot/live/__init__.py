"""Live operation: the continuous pipeline, the file follower, the syslog receiver and
``aiops watch``.

:class:`~aiops_copilot.live.pipeline.LivePipeline` is the piece every live entry point shares
(``aiops watch`` here, ``aiops serve`` in :mod:`aiops_copilot.api`); sources only turn bytes
into :class:`~aiops_copilot.models.LogRecord` and feed it.
"""

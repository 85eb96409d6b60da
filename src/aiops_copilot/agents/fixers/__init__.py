"""The six specialist fixer agents; importing this package registers each one once.

Every module holds one fixer class decorated with :func:`aiops_copilot.agents.base.register`;
the shared reasoning is in :mod:`.engine`, the evidence view in :mod:`.evidence`, and each
domain's problems and hypotheses are data in ``knowledge/hypotheses/<domain>.yaml``.
"""

from aiops_copilot.agents.fixers import (
    application,
    database,
    infrastructure,
    integration,
    network,
    security,
)

__all__ = ["application", "database", "infrastructure", "integration", "network", "security"]

"""AI Ops Copilot: a local-first, multi-agent log-analysis copilot."""

__version__ = "0.1.0"

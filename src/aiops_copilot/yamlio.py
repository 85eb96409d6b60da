"""YAML for the project's own data files (knowledge base, rules, weights).

Why one helper: those files are read on every run, and libyaml's safe loader (in PyYAML's
wheels) parses them several times faster than the pure-Python one; every reader should get
the fast one, and fall back to the pure one where libyaml is missing. Both are *safe*
loaders: data files never construct arbitrary objects.
"""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Parse one YAML document safely (``yaml.YAMLError`` on bad syntax, as ``safe_load``)."""
    return yaml.load(text, Loader=SAFE_LOADER)

"""Hypothesis profiles: ``fast`` in every run, ``full`` for a run of the properties alone.

The README's test command runs every property in the ``fast`` profile, a fifth of the examples of
the full size; a failure hypothesis finds is kept in ``.hypothesis/`` and replayed first by later
runs. ``python -m pytest -m property`` runs them at full size (the ``full`` profile, loaded for
exactly that selection), and ``--hypothesis-profile=full`` picks it for any other selection::

    @settings(max_examples=examples(400))   # 400 at full size, 80 in the fast profile
"""

from __future__ import annotations

import pytest
from hypothesis import settings

__all__ = ["FULL_EXAMPLES", "examples", "load_profile"]

#: Examples of a property at full size unless it asks for more: hypothesis' own default.
FULL_EXAMPLES = 100

settings.register_profile("full", deadline=None, max_examples=FULL_EXAMPLES)
settings.register_profile("fast", deadline=None, max_examples=FULL_EXAMPLES // 5)


def load_profile(config: pytest.Config) -> None:
    """``full`` for ``-m property``, ``fast`` otherwise; a ``--hypothesis-profile`` given wins."""
    if config.getoption("hypothesis_profile", None) is not None:
        return  # hypothesis' own plugin loaded the named profile
    settings.load_profile("full" if config.option.markexpr.strip() == "property" else "fast")


def examples(full: int) -> int:
    """The example count of a property that runs ``full`` examples at full size, in the loaded profile."""
    loaded: int = settings().max_examples
    return max(1, full * loaded // FULL_EXAMPLES)

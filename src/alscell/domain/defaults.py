"""Defaults that commands show in their help, kept apart from the heavy statistics that use them.

``alscell --help`` must stay quick: a command's options are read when the command line starts, so the
numbers they default to live here rather than in modules that import the statistical libraries.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DEFAULT_SEED"]

DEFAULT_SEED: Final = 20_260_101
"""The evaluation's seed unless another is asked for: the same records always give the same numbers."""

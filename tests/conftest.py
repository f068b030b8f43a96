"""Shared test set-up: Hypothesis runs derandomized so every run of the suite tests the same cases."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# "ci" (the default) is deterministic: no flaky runs, no reruns. Set HYPOTHESIS_PROFILE=explore to
# search with fresh random cases locally; pin anything it finds with @example.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("explore", deadline=None, max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

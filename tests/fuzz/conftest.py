"""Hypothesis profiles for the submission fuzzer.

``ci`` (the default, used by ``make test``) is derandomized and small, so every run checks the
same few hundred files in well under a minute.  ``long`` (``make fuzz``, or
``HYPOTHESIS_PROFILE=long``) draws fresh random files and keeps failing examples in
``.warehouse/hypothesis`` so the next run tries them first.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "ci",
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "4000")),
    deadline=None,
    database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[2] / ".warehouse" / "hypothesis"),
    print_blob=True,
    suppress_health_check=_SLOW_DATA,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

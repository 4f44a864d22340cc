"""The real-format payloads under ``sample_data/``, one folder per source."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data"
SAMPLE_SECRET = "sample-secret"
"""The secret the signed samples were signed with."""


def sample(relative: str) -> Path:
    """A sample payload, or a clean skip while the engineer writing it has not yet."""
    path = SAMPLES / relative
    if not path.exists():
        import pytest  # here, not at the top: sender processes load this module and no pytest

        pytest.skip(f"sample_data/{relative} does not exist yet")
    return path


def sample_headers(relative: str) -> dict[str, str]:
    """The HTTP headers a sample was captured with (``*.headers.json``), as sent."""
    headers: dict[str, str] = json.loads(sample(relative).read_text())
    return headers

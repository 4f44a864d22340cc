"""The capped summary kept of a refused delivery's headers: never over its limit once stored."""

from __future__ import annotations

import json

import pytest

from oncall_tui.store.refusals import summary_headers


def stored(headers: dict[str, str]) -> str:
    return json.dumps(headers, sort_keys=True)  # as deliveries.insert serialises them


@pytest.mark.parametrize(
    "value",
    ["v" * 60_000, "\xff" * 60_000, '"\\' * 30_000, "\x1b[2J" * 10_000],
    ids=["plain", "latin-1", "quotes", "escapes"],
)
def test_the_summary_fits_its_limit_however_its_values_escape(value: str) -> None:
    headers = {"host": "127.0.0.1", "x-padding": value, "authorization": "Bearer secret"}
    kept, full = summary_headers(headers, 4096)

    assert len(stored(kept)) <= 4096
    assert full == len(stored({**headers, "authorization": "[redacted]"}))
    assert kept["authorization"] == "[redacted]" and kept["host"] == "127.0.0.1"
    assert value.startswith(kept["x-padding"]) and len(kept["x-padding"]) > 100


def test_headers_under_the_limit_are_kept_whole_and_redacted() -> None:
    headers = {"content-type": "application/json", "x-api-key": "k"}
    assert summary_headers(headers, 4096) == (
        {"content-type": "application/json", "x-api-key": "[redacted]"},
        len(stored({"content-type": "application/json", "x-api-key": "[redacted]"})),
    )

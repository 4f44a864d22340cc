"""Deliveries as an adapter receives them, built from the real-format samples in sample_data/.

Every adapter test needs the same three things: a delivery around a body it wrote, a sample
as captured (its body, and its headers when they were captured too), and a sample's JSON to
change one field of. :class:`Adapter` gives them for one source, with the headers that
source's deliveries carry when a test names none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oncall_tui.sources.base import RawDelivery
from tests.support.samples import SAMPLES

RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
"""When every test delivery arrived: minutes after the samples' own timestamps."""


@dataclass(frozen=True)
class Adapter:
    """One source's samples, and deliveries addressed to its adapter."""

    source: str
    """The route name, which is also the sample folder's."""
    default_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return SAMPLES / self.source

    def delivery(self, body: bytes, headers: Mapping[str, str] | None = None) -> RawDelivery:
        """``body`` as delivered with ``headers`` (or the defaults), names lower-cased as the
        receiver hands them to adapters."""
        sent = self.default_headers if headers is None else headers
        return RawDelivery(
            source=self.source,
            body=body,
            headers={name.lower(): value for name, value in sent.items()},
            received_at=RECEIVED,
        )

    def body(self, file_name: str) -> bytes:
        """A sample file's bytes, by its name in the folder (``firing.json``)."""
        return (self.folder / file_name).read_bytes()

    def payload(self, file_name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body(file_name))
        return loaded

    def sample(self, stem: str, headers_of: str | None = None) -> RawDelivery:
        """The sample ``{stem}.json`` as it arrived: with the headers captured with it (or with
        sample ``headers_of``) in ``*.headers.json``, else with the defaults."""
        captured = self.folder / f"{headers_of or stem}.headers.json"
        named = headers_of is not None or captured.exists()
        headers = json.loads(captured.read_text()) if named else None
        return self.delivery(self.body(f"{stem}.json"), headers)

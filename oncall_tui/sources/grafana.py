"""Grafana unified alerting webhook (payload ``version: "1"`` with ``orgId``).

The body is Alertmanager's alert shape plus a few Grafana fields, so parsing is delegated to
:mod:`oncall_tui.sources.alertmanager`; this module adds the Grafana links, the evaluated
``values`` and the optional HMAC signature.

Grafana signs the raw body with HMAC-SHA256 (bare lowercase hex). When a timestamp header is
configured it signs ``timestamp + ":" + body`` instead, which is what lets us refuse replays of an
old, validly signed delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.models import Signal
from oncall_tui.sources import base
from oncall_tui.sources.alertmanager import Flavour, group_delivery_key, load_group, parse_group
from oncall_tui.sources.base import AuthError, ParseError, RawDelivery, ServiceMapping, Source

SIGNATURE_HEADER = "x-grafana-alerting-signature"
TIMESTAMP_HEADERS = ("x-grafana-alerting-timestamp", "x-grafana-alerting-signature-timestamp")
"""The timestamp header has no default name; these are the two the Grafana docs use."""
MAX_CLOCK_SKEW_SECONDS = 300
VALUES_LABEL = "oncall_values"
"""The evaluated query values (``B=44.2 C=1``): what crossed the threshold, at a glance."""


def _values_label(alert: dict[str, Any]) -> dict[str, str]:
    values = base.string_map(alert.get("values"))
    if not values:
        return {}
    return {VALUES_LABEL: " ".join(f"{ref}={value}" for ref, value in sorted(values.items()))}


FLAVOUR = Flavour(
    source="grafana",
    version="1",
    key_prefix="grafana",
    external_text="Grafana",
    link_fields=(
        ("generatorURL", "Alert rule"),
        ("silenceURL", "Silence"),
        ("dashboardURL", "Dashboard"),
        ("panelURL", "Panel"),
    ),
    extra_labels=_values_label,
)


class GrafanaSource:
    """Grafana contact point of type webhook, optionally HMAC-signed."""

    name: str = "grafana"
    signature_header: str | None = SIGNATURE_HEADER

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Check the HMAC over the exact bytes received, and the timestamp's freshness if sent."""
        signature = delivery.header(SIGNATURE_HEADER)
        if not signature or not signature.strip():
            raise AuthError(f"missing {SIGNATURE_HEADER} header", 401)
        message = delivery.body
        stamp = next(
            (value for name in TIMESTAMP_HEADERS if (value := delivery.header(name)) is not None),
            None,
        )
        if stamp is not None:
            _check_fresh(stamp, now)
            message = stamp.encode("ascii") + b":" + delivery.body
        if not base.digest_matches(base.hmac_sha256_hex(secret, message), [signature]):
            raise AuthError(f"{SIGNATURE_HEADER} does not match the body", 403)

    def delivery_key(self, delivery: RawDelivery) -> str:
        return group_delivery_key(delivery.body, FLAVOUR)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        payload, alerts = load_group(delivery.body, FLAVOUR)
        if "orgId" not in payload:
            raise ParseError("Grafana payload has no orgId (is this an Alertmanager payload?)")
        return parse_group(payload, alerts, delivery, mapping, FLAVOUR)


def _check_fresh(stamp: str, now: datetime) -> None:
    # Unix seconds: at most 12 digits keeps int() cheap and out of Python's digit limit.
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        # The header's value is not quoted: reasons are stored, and refusals must not echo
        # what a sender put in its authentication headers.
        raise AuthError("signature timestamp must be Unix seconds", 403)
    skew = abs(now.timestamp() - int(stamp))
    if skew > MAX_CLOCK_SKEW_SECONDS:
        raise AuthError(
            f"signature timestamp is {skew:.0f} s from now (limit {MAX_CLOCK_SKEW_SECONDS} s)", 403
        )


SOURCE: Source = GrafanaSource()

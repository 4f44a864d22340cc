"""Prometheus Alertmanager webhook (payload ``version: "4"``).

Alertmanager signs nothing: it authenticates with ``http_config`` credentials (bearer, basic,
mTLS) that the receiver checks before any adapter runs, so :meth:`AlertmanagerSource.verify` has
nothing left to do.

Grafana's unified alerting posts the same alert shape with a few extras, so the envelope checks,
the delivery identity and the per-alert normalisation live here as :func:`load_group`,
:func:`group_delivery_key` and :func:`parse_group`, parameterised by a :class:`Flavour`;
:mod:`oncall_tui.sources.grafana` reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oncall_tui.core.models import Link, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources import base
from oncall_tui.sources.base import ParseError, RawDelivery, ServiceMapping, Source

TRUNCATED_LABEL = "oncall_truncated_alerts"
"""Put on the first signal of a group that ``max_alerts`` cut short, so the loss stays visible."""

_STATUSES = {"firing": SignalStatus.FIRING, "resolved": SignalStatus.RESOLVED}
_SENDER_BY_VERSION = {"4": "alertmanager", "1": "grafana"}
_FNV64_OFFSET = 14695981039346656037
_FNV64_PRIME = 1099511628211
_U64 = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True)
class Flavour:
    """What differs between senders of the Alertmanager alert shape."""

    source: str
    version: str
    key_prefix: str
    external_text: str
    """Link text for the group's ``externalURL`` (the sender's own UI)."""
    link_fields: tuple[tuple[str, str], ...]
    """Per-alert URL fields turned into links, with their link text."""
    extra_labels: Callable[[dict[str, Any]], dict[str, str]] | None = None
    """Sender-specific facts of one alert worth showing as labels."""


FLAVOUR = Flavour(
    source="alertmanager",
    version="4",
    key_prefix="am",
    external_text="Alertmanager",
    link_fields=(("generatorURL", "Source"),),
)


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager gives a label set: FNV-1a 64 over the sorted pairs.

    Used only when a sender leaves ``fingerprint`` out. Computing it the way Alertmanager does
    keeps the alert key equal to the one a delivery carrying the real fingerprint produces. The
    0xFF separator cannot occur in UTF-8, so ``a=bc`` and ``ab=c`` hash differently.
    """
    digest = _FNV64_OFFSET
    for name in sorted(labels):
        for byte in b"%s\xff%s\xff" % (name.encode(), labels[name].encode()):
            digest = ((digest ^ byte) * _FNV64_PRIME) & _U64
    return f"{digest:016x}"


def load_group(body: bytes, flavour: Flavour) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decode one notification and check its envelope; return the payload and its alerts."""
    payload = base.require_object(base.load_json(body))
    version = payload.get("version")
    if version != flavour.version:
        owner = _SENDER_BY_VERSION.get(str(version))
        hint = (
            f" (looks like {owner}: use /webhooks/{owner})"
            if owner not in (None, flavour.source)
            else ""
        )
        raise ParseError(f"payload version must be {flavour.version!r}, got {version!r}{hint}")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise ParseError(f"payload must have an 'alerts' list, got {type(alerts).__name__}")
    for index, alert in enumerate(alerts):
        base.require_object(alert, f"alerts[{index}]")
    return payload, alerts


def group_delivery_key(body: bytes, flavour: Flavour) -> str:
    """Identity of one notification, or a hash of the body when it cannot be read."""
    try:
        payload, alerts = load_group(body, flavour)
    except ParseError:
        return base.body_key(body)
    return _content_key(payload, alerts)


def _content_key(payload: dict[str, Any], alerts: list[dict[str, Any]]) -> str:
    # groupKey alone names the aggregation group, which notifies again on every change, so each
    # alert's fingerprint, status and start go in too; HA peers and retries send the same content
    # and collapse onto one key.
    parts = sorted(
        f"{_fingerprint(alert)}:{base.text_field(alert, 'status')}:{_start_key(alert)}"
        for alert in alerts
    )
    return base.content_key(base.text_field(payload, "groupKey"), *parts)


def _millis(when: datetime) -> datetime:
    """UTC at millisecond precision: Alertmanager's webhook writes nanoseconds and the source's
    offset, its API milliseconds in UTC; identities must not depend on which path an alert took."""
    utc = when.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _start_key(alert: dict[str, Any]) -> str:
    try:
        return _millis(base.parse_time(base.text_field(alert, "startsAt"))).isoformat()
    except ParseError:
        return base.text_field(alert, "startsAt")


@dataclass(frozen=True)
class _Group:
    """What every alert of one notification shares, computed once per delivery."""

    flavour: Flavour
    status: str
    common_labels: dict[str, str]
    external_links: tuple[Link, ...]
    group_key: str | None
    delivery_key: str
    received_at: datetime
    mapping: ServiceMapping


def parse_group(
    payload: dict[str, Any],
    alerts: list[dict[str, Any]],
    delivery: RawDelivery,
    mapping: ServiceMapping,
    flavour: Flavour,
) -> list[Signal]:
    """One signal per alert of a notification already checked by :func:`load_group`."""
    external = base.text_field(payload, "externalURL")
    group = _Group(
        flavour=flavour,
        status=base.text_field(payload, "status"),
        common_labels=base.string_map(payload.get("commonLabels")),
        external_links=(Link(href=external, text=flavour.external_text),)
        if is_web_url(external)
        else (),
        group_key=base.text_field(payload, "groupKey") or None,
        delivery_key=_content_key(payload, alerts),
        received_at=delivery.received_at,
        mapping=mapping,
    )
    truncated = payload.get("truncatedAlerts")
    signals = []
    for index, alert in enumerate(alerts):
        extra = flavour.extra_labels(alert) if flavour.extra_labels else {}
        if index == 0 and type(truncated) is int and truncated > 0:
            extra[TRUNCATED_LABEL] = str(truncated)
        try:
            signals.append(_normalise_alert(alert, group, extra))
        except ParseError as exc:
            raise ParseError(f"alerts[{index}]: {exc.reason}") from exc
    return signals


def _normalise_alert(alert: dict[str, Any], group: _Group, extra: dict[str, str]) -> Signal:
    own_labels = base.string_map(alert.get("labels"))
    labels = {**group.common_labels, **own_labels, **extra}
    annotations = base.string_map(alert.get("annotations"))
    status_text = base.text_field(alert, "status") or group.status
    status = _STATUSES.get(status_text.lower())
    if status is None:
        raise ParseError(f"status must be 'firing' or 'resolved', got {status_text[:32]!r}")
    starts_at = base.text_field(alert, "startsAt")
    if not starts_at:
        raise ParseError("missing startsAt, which identifies the alert")
    started = _millis(base.parse_time(starts_at))
    ended = alert.get("endsAt")
    if status is SignalStatus.FIRING:
        occurred = started
    elif not ended or base.is_zero_time(ended):
        occurred = group.received_at
    else:
        occurred = base.parse_time(ended)
    fingerprint = _fingerprint(alert)
    flavour = group.flavour
    candidates = [(base.text_field(alert, field), text) for field, text in flavour.link_fields]
    candidates.append((annotations.get("runbook_url", ""), "Runbook"))
    links = [Link(href=url, text=text) for url, text in candidates if is_web_url(url)]
    return Signal(
        source=flavour.source,
        kind=SignalKind.ALERT,
        service=group.mapping.resolve(labels),
        environment=labels.get("env") or labels.get("environment") or None,
        severity=Severity.parse(labels.get("severity")),
        status=status,
        title=annotations.get("summary") or labels.get("alertname") or f"alert {fingerprint}",
        text=annotations.get("description", ""),
        labels=labels,
        links=[*links, *group.external_links],
        occurred_at=occurred,
        received_at=group.received_at,
        delivery_key=group.delivery_key,
        alert_key=f"{flavour.key_prefix}:{fingerprint}:{started:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z",
        group_key=group.group_key,
    )


def _fingerprint(alert: dict[str, Any]) -> str:
    return base.text_field(alert, "fingerprint") or label_fingerprint(
        base.string_map(alert.get("labels"))
    )


def is_web_url(url: str) -> bool:
    """Whether a payload URL may become a link: the dashboard opens links, so only http(s)."""
    return url.lower().startswith(("https://", "http://"))


class AlertmanagerSource:
    """Alertmanager webhook v4: one signal per alert of the notification."""

    name: str = "alertmanager"
    signature_header: str | None = None

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Nothing to check: Alertmanager cannot sign, its credentials are checked upstream."""

    def delivery_key(self, delivery: RawDelivery) -> str:
        return group_delivery_key(delivery.body, FLAVOUR)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        payload, alerts = load_group(delivery.body, FLAVOUR)
        return parse_group(payload, alerts, delivery, mapping, FLAVOUR)


SOURCE: Source = AlertmanagerSource()

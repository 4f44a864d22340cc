"""Datadog webhooks integration: our recommended payload template and Datadog's default payload.

Datadog signs nothing; the webhook carries a custom ``Authorization`` header that the receiver
checks before any adapter runs. The payload is whatever template the user typed, so two shapes
are accepted. :data:`RECOMMENDED_TEMPLATE` carries the transition, the alert cycle key and the
tags. The default payload has none of them: its only status hint is the ``[Triggered]`` /
``[Recovered]`` prefix Datadog puts on the event title, because ``event_type`` names the kind of
monitor (``query_alert_monitor``...), not the transition.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from oncall_tui.core.models import Link, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources import base
from oncall_tui.sources.alertmanager import is_web_url
from oncall_tui.sources.base import ParseError, RawDelivery, ServiceMapping, Source

RECOMMENDED_TEMPLATE = """\
{
  "alert_id": "$ALERT_ID",
  "alert_cycle_key": "$ALERT_CYCLE_KEY",
  "alert_transition": "$ALERT_TRANSITION",
  "aggreg_key": "$AGGREG_KEY",
  "title": "$EVENT_TITLE",
  "text": "$TEXT_ONLY_MSG",
  "priority": "$ALERT_PRIORITY",
  "scope": "$ALERT_SCOPE",
  "tags": "$TAGS",
  "service": "$TAGS[service]",
  "env": "$TAGS[env]",
  "date": "$DATE",
  "last_updated": "$LAST_UPDATED",
  "link": "$LINK",
  "id": "$ID"
}
"""
"""The payload to paste into the Datadog webhook (see sample_data/datadog/TEMPLATE.md)."""

_FIRING_TRANSITIONS = (
    "triggered",
    "re-triggered",
    "warn",
    "re-warn",
    "no data",
    "re-no data",
    "renotify",
)
_TRANSITIONS = {
    **dict.fromkeys(_FIRING_TRANSITIONS, SignalStatus.FIRING),
    "recovered": SignalStatus.RESOLVED,
}
_WARN_TRANSITIONS = ("warn", "re-warn")
_TEMPLATE_KEYS = ("alert_transition", "alert_cycle_key", "alert_id")
_DEFAULT_KEYS = ("event_type", "title", "id")
_TITLE_PREFIX = re.compile(r"\[(?P<word>[^\]{]+?)(?: on (?P<scope>\{[^\]]*\}))?\]\s*")
_PRIORITY = re.compile(r"[Pp][1-5]")


class DatadogSource:
    """Datadog monitor notifications sent through the webhooks integration."""

    name: str = "datadog"
    signature_header: str | None = None

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Nothing to check: Datadog cannot sign, its custom header is checked upstream."""

    def delivery_key(self, delivery: RawDelivery) -> str:
        try:
            payload = base.require_object(base.load_json(delivery.body))
        except ParseError:
            return base.body_key(delivery.body)
        return _delivery_key(payload) or base.body_key(delivery.body)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        payload = base.require_object(base.load_json(delivery.body))
        if not any(key in payload for key in (*_TEMPLATE_KEYS, *_DEFAULT_KEYS)):
            raise ParseError(
                "not a Datadog webhook payload: expected the recommended template "
                f"({', '.join(_TEMPLATE_KEYS)}) or the default one ({', '.join(_DEFAULT_KEYS)})"
            )
        title_transition, title_priority, title_scope, title = _split_title(
            base.text_field(payload, "title")
        )
        transition = base.text_field(payload, "alert_transition") or title_transition
        status = _TRANSITIONS.get(transition.lower()) if transition else SignalStatus.FIRING
        if status is None:
            raise ParseError(f"unknown alert_transition {transition[:32]!r}")
        labels = _labels(payload, title_scope)
        alert_key = _alert_key(payload)
        link = base.text_field(payload, "link")
        when = base.text_field(payload, "date") or base.text_field(payload, "last_updated")
        env = base.text_field(payload, "env") or labels.get("env") or labels.get("environment")
        priority = base.text_field(payload, "priority") or title_priority
        return [
            Signal(
                source=self.name,
                kind=SignalKind.ALERT,
                service=mapping.resolve(labels),
                environment=env or None,
                severity=_severity(priority, transition),
                status=status,
                title=title or f"Datadog alert {alert_key}",
                text=_strip_markdown_fence(
                    base.text_field(payload, "text") or base.text_field(payload, "body")
                ),
                labels=labels,
                links=[Link(href=link, text="Datadog")] if is_web_url(link) else [],
                occurred_at=base.parse_time(when, default=delivery.received_at),
                received_at=delivery.received_at,
                delivery_key=_delivery_key(payload) or base.body_key(delivery.body),
                alert_key=alert_key,
            )
        ]


def _delivery_key(payload: dict[str, Any]) -> str | None:
    """The same across Datadog's retries, different for each notification of an alert cycle."""
    if cycle := base.text_field(payload, "alert_cycle_key"):
        return base.content_key(
            cycle,
            base.text_field(payload, "alert_transition"),
            base.text_field(payload, "last_updated"),
        )
    event_id = base.text_field(payload, "id")
    return f"datadog:{event_id}" if event_id else None


def _alert_key(payload: dict[str, Any]) -> str:
    """The cycle key links trigger to recovery; without it, the monitor and its scope do."""
    if cycle := base.text_field(payload, "alert_cycle_key"):
        return f"datadog:{cycle}"
    if alert_id := base.text_field(payload, "alert_id"):
        return f"datadog:{alert_id}:{base.text_field(payload, 'scope')}"
    if event_id := base.text_field(payload, "id"):
        return f"datadog:{event_id}"
    raise ParseError("no alert_cycle_key, alert_id or id: the alert cannot be identified")


def _split_title(title: str) -> tuple[str, str, str, str]:
    """Peel ``[P1]`` and ``[Triggered on {scope}]`` prefixes off an event title.

    Returns the transition, the priority, the scope (without braces) and the bare title.
    """
    transition = priority = scope = ""
    rest = title.strip()
    while match := _TITLE_PREFIX.match(rest):
        word = match["word"].strip()
        if _PRIORITY.fullmatch(word):
            priority = word.upper()
        elif word.lower() in _TRANSITIONS:
            transition = word
            scope = (match["scope"] or "").strip("{}")
        else:
            break
        rest = rest[match.end() :]
    return transition, priority, scope, rest


def _labels(payload: dict[str, Any], title_scope: str) -> dict[str, str]:
    """Tags, then the alert scope for what tags lack, then the template's own service field."""
    labels = _parse_tags(base.text_field(payload, "tags"))
    for key, value in _parse_tags(base.text_field(payload, "scope") or title_scope).items():
        labels.setdefault(key, value)
    if service := base.text_field(payload, "service"):
        labels["service"] = service
    if event_type := base.text_field(payload, "event_type"):
        labels["event_type"] = event_type
    return labels


def _parse_tags(text: str) -> dict[str, str]:
    """``env:prod,service:payments-api`` → labels; a bare tag becomes a label with no value."""
    labels: dict[str, str] = {}
    for tag in text.split(","):
        key, _, value = tag.strip().partition(":")
        if key:
            labels.setdefault(key, value)
    return labels


def _severity(priority: str, transition: str) -> Severity:
    if _PRIORITY.fullmatch(priority):
        return Severity.parse(priority)
    if transition.lower() in _WARN_TRANSITIONS:
        return Severity.WARNING
    return Severity.ERROR


def _strip_markdown_fence(text: str) -> str:
    # $EVENT_MSG wraps its markdown in %%% lines, which mean nothing outside Datadog.
    return text.strip().removeprefix("%%%").removesuffix("%%%").strip()


SOURCE: Source = DatadogSource()

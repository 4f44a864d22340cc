"""Sender adapters, one module per sender, looked up by the name used in the webhook URL."""

from __future__ import annotations

import importlib

from oncall_tui.sources.base import Source

SOURCE_MODULES: dict[str, str] = {
    "alertmanager": "alertmanager",
    "grafana": "grafana",
    "pagerduty": "pagerduty",
    "datadog": "datadog",
    "github": "github",
    "events-v2": "events_v2",
    "cloudevents": "cloudevents",
}
"""``POST /webhooks/<name>`` → module under ``oncall_tui.sources`` exposing ``SOURCE``."""


class UnknownSourceError(LookupError):
    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(SOURCE_MODULES))
        super().__init__(f"unknown source {name!r} (known: {known})")


def get_source(name: str) -> Source:
    source = _LOADED.get(name)
    if source is not None:
        return source
    module_name = SOURCE_MODULES.get(name)
    if module_name is None:
        raise UnknownSourceError(name)
    # Imported on first use (the hook never loads an adapter), then kept: this runs per delivery.
    module = importlib.import_module(f"oncall_tui.sources.{module_name}")
    loaded: Source = module.SOURCE
    _LOADED[name] = loaded
    return loaded


_LOADED: dict[str, Source] = {}

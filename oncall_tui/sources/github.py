"""GitHub ``deployment_status`` webhooks: deploys and rollbacks, to line up against incidents.

GitHub signs the raw body (``X-Hub-Signature-256: sha256=<hex>``) and never retries on its own,
so the delivery GUID only repeats on a manual redelivery. A hook subscribed to more events (the
``ping`` sent on creation included) gets a 400 for those: we read deployment statuses only.

The GUID header is not signed, so a delivery is identified by the ids inside the signed body
(https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status: each
deployment status, and each deployment, has its own ``id``): a captured body sent again under a
fresh ``X-GitHub-Delivery`` is the same delivery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.models import Link, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources.base import (
    AuthError,
    ParseError,
    RawDelivery,
    ServiceMapping,
    body_key,
    digest_matches,
    hmac_sha256_hex,
    load_json,
    parse_time,
    require_object,
    string_map,
    text_field,
)

_STATES = {
    "success": SignalStatus.SUCCESS,
    "failure": SignalStatus.FAILURE,
    "error": SignalStatus.FAILURE,
    "pending": SignalStatus.PENDING,
    "queued": SignalStatus.PENDING,
    "in_progress": SignalStatus.IN_PROGRESS,
    "inactive": SignalStatus.INACTIVE,
}

_LINKS = (("target_url", "status"), ("log_url", "logs"), ("environment_url", "environment"))


class GitHubSource:
    """Adapter for ``POST /webhooks/github``."""

    name: str = "github"
    signature_header: str | None = "x-hub-signature-256"

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Check the SHA-256 signature; the legacy SHA-1 ``X-Hub-Signature`` is not accepted."""
        header = (delivery.header("x-hub-signature-256") or "").strip()
        if not header:
            raise AuthError("missing X-Hub-Signature-256 header", 401)
        scheme, _, digest = header.partition("=")
        candidates = [digest] if scheme == "sha256" else []
        if not digest_matches(hmac_sha256_hex(secret, delivery.body), candidates):
            raise AuthError("X-Hub-Signature-256 does not match the body", 403)

    def delivery_key(self, delivery: RawDelivery) -> str:
        """The signed status (or deployment) id; else the unsigned GUID; else the bytes."""
        event_name = _event_name(delivery)
        try:
            body = require_object(load_json(delivery.body)) if event_name in _ID_OBJECTS else {}
        except ParseError:
            body = {}
        return _delivery_key(event_name, body, delivery)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        event_name = _event_name(delivery)
        if event_name != "deployment_status":
            raise ParseError(f"unsupported GitHub event {event_name[:64]!r}")
        body = require_object(load_json(delivery.body))
        status = require_object(body.get("deployment_status"), "deployment_status")
        deployment = require_object(body.get("deployment"), "deployment")
        state = text_field(status, "state")
        signal_status = _STATES.get(state)
        if signal_status is None:
            raise ParseError(f"unknown deployment_status.state {state[:32]!r}")
        deployment_id = text_field(deployment, "id")
        if not deployment_id:
            raise ParseError("deployment has no id")
        repository = body.get("repository")
        repository = repository if isinstance(repository, dict) else {}
        extra = deployment.get("payload")
        extra = extra if isinstance(extra, dict) else {}
        sha = text_field(deployment, "sha")
        ref = text_field(deployment, "ref")
        environment = text_field(status, "environment") or text_field(deployment, "environment")
        description = text_field(status, "description") or text_field(deployment, "description")
        rollback = _is_rollback(deployment, extra, description)
        verb = "Rollback" if rollback else "Deploy"
        labels = {
            "sha": sha,
            "ref": ref,
            "environment": environment,
            "repository": text_field(repository, "full_name"),
            "creator": _login(status.get("creator")) or _login(deployment.get("creator")),
            "task": text_field(deployment, "task"),
            "state": state,
        }
        signal = Signal(
            source=self.name,
            kind=SignalKind.ROLLBACK if rollback else SignalKind.DEPLOY,
            service=mapping.resolve(
                string_map(extra), fallback=text_field(repository, "name") or None
            ),
            environment=environment or None,
            severity=Severity.ERROR if signal_status is SignalStatus.FAILURE else Severity.INFO,
            status=signal_status,
            title=f"{verb} {sha[:7]} ({ref}) to {environment or 'unknown'}: {state}",
            text=description,
            labels={key: value for key, value in labels.items() if value},
            links=[
                Link(href=text_field(status, key), text=text)
                for key, text in _LINKS
                if text_field(status, key).startswith(("https://", "http://"))
            ],
            occurred_at=parse_time(
                status.get("updated_at") or status.get("created_at"), delivery.received_at
            ),
            received_at=delivery.received_at,
            delivery_key=_delivery_key(event_name, body, delivery),
            alert_key=f"github:deployment:{deployment_id}",
            delivery_id=delivery.id,
        )
        return [signal]


_ID_OBJECTS = frozenset({"deployment_status", "deployment"})
"""Events whose body holds an object of the event's name, with the ``id`` that names it."""


def _event_name(delivery: RawDelivery) -> str:
    return (delivery.header("x-github-event") or "deployment_status").strip()


def _delivery_key(event_name: str, body: dict[str, Any], delivery: RawDelivery) -> str:
    """``deployment_status:<id>`` or ``deployment:<id>`` from the signed body; else the GUID
    header; else the bytes."""
    found = body.get(event_name) if event_name in _ID_OBJECTS else None
    object_id = text_field(found, "id") if isinstance(found, dict) else ""
    if object_id:
        return f"github:{event_name}:{object_id}"
    guid = (delivery.header("x-github-delivery") or "").strip()
    return f"github:{guid}" if guid else f"github:{body_key(delivery.body)}"


def _is_rollback(deployment: dict[str, Any], extra: dict[str, Any], description: str) -> bool:
    """GitHub has no rollback flag; teams say so in the task, the payload or the description."""
    if "rollback" in text_field(deployment, "task").lower() or extra.get("rollback") is True:
        return True
    text = description.lower()
    return any(word in text for word in ("rollback", "roll back", "rolled back", "revert"))


def _login(user: Any) -> str:
    return text_field(user, "login") if isinstance(user, dict) else ""


SOURCE = GitHubSource()

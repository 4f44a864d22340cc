"""The contract every sender adapter fulfils.

An adapter turns the raw bytes and headers of one delivery into normalised signals. It never
touches the store: the ingest pipeline stores the raw bytes first, then asks the adapter for the
delivery identity, checks credentials, and parses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from oncall_tui.core.models import Signal

MAX_JSON_DEPTH = 64
"""Deeper payloads are refused: no sender nests this deep, and recursion must stay bounded."""


class SourceError(Exception):
    """A delivery we refuse. ``status`` is the HTTP status the receiver answers with."""

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ParseError(SourceError):
    """The body is not a payload of this sender (bad JSON, wrong shape, unknown event)."""

    status = 400


class AuthError(SourceError):
    """Credentials are missing (401) or wrong (403)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class RawDelivery:
    """One delivery exactly as it arrived. Header names are lower-cased."""

    source: str
    body: bytes
    headers: Mapping[str, str]
    received_at: datetime
    id: int | None = None
    """Row id in the deliveries table, once stored."""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ServiceMapping:
    """How to find the service name in labels/tags, and how to rename what senders call it.

    ``label_keys`` are tried in order; ``aliases`` maps a sender's name onto the catalog's name
    (e.g. the Prometheus job ``payments-api-prod`` → ``payments-api``).
    """

    label_keys: tuple[str, ...] = ("service", "service.name", "service_name", "app", "job")
    aliases: Mapping[str, str] = field(default_factory=dict)

    def resolve(self, labels: Mapping[str, Any], fallback: str | None = None) -> str | None:
        if labels:  # none for some senders (PagerDuty names its service itself)
            for key in self.label_keys:
                value = labels.get(key)
                if isinstance(value, str) and value.strip():
                    return self.rename(value.strip())
        return self.rename(fallback) if fallback else None

    def rename(self, name: str) -> str:
        return self.aliases.get(name, name)


class Source(Protocol):
    """What the pipeline needs from a sender adapter."""

    name: str
    """The ``<source>`` part of ``POST /webhooks/<source>``."""

    signature_header: str | None
    """Header carrying an HMAC signature, or None for senders that sign nothing."""

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Check the signature over the raw body. Raise :class:`AuthError` when it fails."""

    def delivery_key(self, delivery: RawDelivery) -> str:
        """The identity of this delivery, the same across the sender's retries."""

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        """Normalise the delivery. Raise :class:`ParseError` for anything we cannot read."""


# --- helpers shared by adapters -------------------------------------------------------------


def _reject_constant(token: str) -> Any:
    raise ParseError(f"invalid JSON number {token}")


def load_json(body: bytes) -> Any:
    """Decode a JSON body strictly: UTF-8 only, no NaN/Infinity, bounded depth and numbers."""
    if not body.strip():
        raise ParseError("empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"body is not valid UTF-8 (byte {exc.start})") from exc
    _check_depth(text)
    try:
        value = _STRICT_JSON.decode(text)
    except ParseError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc
    return value


def _bounded_int(token: str) -> int:
    # Python ints are unbounded, but SQLite and every downstream tool are not.
    if len(token) > 19 or not (-(2**63) <= int(token) < 2**63):
        raise ParseError(f"integer out of range: {token[:32]}")
    return int(token)


_STRICT_JSON = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_bounded_int)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _check_depth(text: str) -> None:
    # Strings may hold brackets; blank them out (in C), then walk the brackets alone, which is
    # far fewer steps than walking every character of a large group.
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than it has openers
    depth = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        else:
            depth -= 1


def require_object(value: Any, what: str = "payload") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def text_field(obj: Mapping[str, Any], key: str, default: str = "") -> str:
    """A string field, tolerating numbers; anything else (objects, lists) becomes the default."""
    value = obj.get(key, default)
    if type(value) is str:  # nearly always: an adapter reads a dozen of these per delivery
        return value
    if value is None:
        return default
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    ):
        return str(value)
    return value if isinstance(value, str) else default


def string_map(value: Any) -> dict[str, str]:
    """Labels/annotations as ``str → str``, dropping anything that is not a scalar."""
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str | int | float | bool)}


def parse_time(value: Any, default: datetime | None = None) -> datetime:
    """Parse RFC 3339 / ISO 8601 text or epoch seconds/milliseconds into an aware UTC datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ParseError(f"timestamp out of range: {value}") from exc
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return parse_time(int(text[:19]), default)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            parsed = _parse_long_fraction(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if default is not None:
        return default
    raise ParseError(f"missing or invalid timestamp: {str(value)[:64]!r}")


def _parse_long_fraction(text: str) -> datetime:
    # Go writes nanoseconds (2023-02-06T13:08:45.828123456Z); Python takes at most microseconds.
    head, sep, rest = text.partition(".")
    if not sep:
        raise ParseError(f"invalid timestamp: {text[:64]!r}")
    digits = ""
    for ch in rest:
        if not ch.isdigit():
            break
        digits += ch
    tail = rest[len(digits) :]
    try:
        return datetime.fromisoformat(
            f"{head}.{digits[:6].ljust(6, '0')}{tail}".replace("Z", "+00:00")
        )
    except ValueError as exc:
        raise ParseError(f"invalid timestamp: {text[:64]!r}") from exc


def is_zero_time(value: Any) -> bool:
    """Alertmanager writes Go's zero time for 'no end yet'."""
    return isinstance(value, str) and value.startswith("0001-01-01")


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def digest_matches(expected_hex: str, candidates: list[str]) -> bool:
    """Constant-time check of an expected digest against each candidate (rotation sends several).

    Every candidate is compared, even after a match, so timing does not reveal which one matched.
    """
    matched = False
    expected = expected_hex.encode("ascii")
    for candidate in candidates:
        if hmac.compare_digest(expected, candidate.strip().lower().encode("ascii", "replace")):
            matched = True
    return matched


def content_key(*parts: str) -> str:
    """A stable delivery identity for senders that send none: a hash of what identifies it."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:32]}"


def body_key(body: bytes) -> str:
    return f"sha256:{hashlib.sha256(body).hexdigest()[:32]}"

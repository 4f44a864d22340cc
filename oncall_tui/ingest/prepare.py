"""Everything a delivery needs before the store: credentials, content type, parsing, its key.

Kept free of any connection so a busy receiver can prepare deliveries on the threads that
received them, in parallel, and hand them to one writer that commits many in one transaction
(:meth:`oncall_tui.ingest.record.Ingestor.ingest_many`). It needs the settings and a clock (the
time a delivery was received is part of its signature check), nothing else.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from oncall_tui.config import Settings, SourceSettings
from oncall_tui.core.clock import Clock
from oncall_tui.core.journal import SIGNAL_JSON, SignalRecorded
from oncall_tui.core.models import Signal
from oncall_tui.core.sanitize import cap
from oncall_tui.sources import SOURCE_MODULES, UnknownSourceError, get_source
from oncall_tui.sources.base import AuthError, RawDelivery, Source, SourceError, body_key
from oncall_tui.store.deliveries import stored_headers

log = logging.getLogger(__name__)

Verify = Literal["all", "signature", "none"]
"""Which checks a caller needs: HTTP deliveries get ``all`` (bearer/basic and signatures); local
deliveries (``oncall-tui ingest``) get ``signature``; pollers, which fetched the data themselves
with their own credentials, get ``none``."""

_JSON_TYPES = ("json", "text/plain")
UNKNOWN_SOURCE_CHARS = 64
"""An unknown source name from the URL is stored and answered as at most this much."""


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` or a structured ``application/...+json`` type (CloudEvents), with
    any parameters. None of them is a type a web page can send without a CORS preflight, which
    this receiver never grants: ``text/plain`` and form types are."""
    if not content_type:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _unknown_source_label(name: str) -> str:
    # The name comes from the URL, percent-decoded: it can carry terminal escapes and any
    # length. Escaped to printable ASCII (``\x1b``) rather than stripped, so what knocked stays
    # legible and a cleaned-up name can never turn into a known source's.
    return cap(ascii(name)[1:-1], UNKNOWN_SOURCE_CHARS)


@dataclass(frozen=True)
class Refusal:
    http_status: int
    reason: str
    unauthenticated: bool = False
    """Refused before we know who sent it: only the start of the body is kept."""


class SpelledSignal(NamedTuple):
    """A signal as its ``signal.recorded`` entry spells it, the delivery's id left out
    (:meth:`~oncall_tui.core.journal.SignalRecorded.spelled_apart`)."""

    alert_key: str
    head: str
    tail: str

    def text(self, delivery_id: int) -> str:
        """The entry's text, stamped with ``delivery_id``."""
        return f"{self.head}{delivery_id}{self.tail}"


@dataclass(frozen=True)
class Prepared:
    """A delivery checked and parsed, waiting to be stored (:meth:`Ingestor.ingest_many`)."""

    raw: RawDelivery
    key: str | None = None
    signals: list[Signal] = field(default_factory=list)
    """Empty when :attr:`spelled` holds them."""
    refusal: Refusal | None = None
    stored_headers: str = ""
    """Of a delivery not refused, its headers as stored. Performance: made here, where a batch
    is prepared by a process of its own (:mod:`~oncall_tui.ingest.prepare_ahead`), not in the
    one that folds it."""
    spelled: tuple[SpelledSignal, ...] | None = None
    """Its signals as the journal spells them, in place of :attr:`signals`, when a process of
    its own prepared them. Performance: the process that folds them validates each from its
    text with the delivery's id filled in, where it copied each with the id and spelled the
    copy again (and unpickling the models cost as much as validating them)."""

    @property
    def signal_count(self) -> int:
        return len(self.signals) if self.spelled is None else len(self.spelled)

    @property
    def alert_keys(self) -> list[str]:
        held = self.signals if self.spelled is None else self.spelled
        return [signal.alert_key for signal in held]

    def spelled_ahead(self) -> Prepared:
        """The same delivery with its signals spelled, or as it is if the journal spells one of
        them otherwise (its text is then made as the signal is recorded)."""
        spelled: list[SpelledSignal] = []
        for signal in self.signals:
            apart = SignalRecorded(signal).spelled_apart()
            if apart is None:
                return self
            spelled.append(SpelledSignal(signal.alert_key, *apart))
        return replace(self, signals=[], spelled=tuple(spelled)) if spelled else self

    def signals_to_fold(self, delivery_id: int) -> tuple[list[Signal], list[str] | None]:
        """Its signals once stored as ``delivery_id``, with their entries' texts if they came
        spelled (each of those signals is then stamped with the id already)."""
        if self.spelled is None:
            return self.signals, None
        texts = [spelled.text(delivery_id) for spelled in self.spelled]
        return [Signal.model_validate_json(text[SIGNAL_JSON]) for text in texts], texts


class Preparer:
    """Checks and parses deliveries; holds no connection, so any thread may use it."""

    def __init__(
        self, settings: Settings, clock: Clock, *, require_credentials: bool = False
    ) -> None:
        """``require_credentials``: refuse HTTP deliveries for sources without any configured
        credential (the receiver sets it when it binds to a non-loopback address)."""
        self.settings = settings
        self.clock = clock
        self.require_credentials = require_credentials
        self.mapping = settings.services.mapping()

    def prepare(
        self,
        source_name: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        verify: Verify = "all",
        from_http: bool = False,
    ) -> Prepared:
        """Credentials, identity and parsing of one delivery, its refusal if any.

        ``from_http``: it came to the webhook route, where anything that can reach the receiver
        may have sent it, a web page included.
        """
        raw = RawDelivery(
            source=source_name,
            body=body,
            headers={k.lower(): v for k, v in headers.items()},
            received_at=self.clock.now(),
        )
        try:
            source = get_source(source_name)
        except UnknownSourceError:
            label = _unknown_source_label(source_name)
            known = ", ".join(sorted(SOURCE_MODULES))
            reason = f"unknown source '{label}' (known: {known})"
            return Prepared(
                replace(raw, source=label), refusal=Refusal(404, reason, unauthenticated=True)
            )
        try:
            self._authenticate(source, raw, verify)
        except AuthError as exc:
            return Prepared(raw, refusal=Refusal(exc.status, exc.reason, unauthenticated=True))
        content_type = raw.header("content-type")
        if from_http:
            # Only what a sender sends, never what a web page can post cross-site.
            # A CloudEvent in binary mode may carry data of any type, but only beside ce-*
            # headers, which a page cannot add without a preflight either.
            binary_event = source_name == "cloudevents" and raw.header("ce-specversion")
            if not binary_event and not is_json_media_type(content_type):
                shown = "none" if content_type is None else repr(content_type[:80])
                reason = f"unsupported content type {shown}; send application/json"
                return Prepared(raw, refusal=Refusal(415, reason))
        elif content_type and not any(kind in content_type.lower() for kind in _JSON_TYPES):
            reason = f"unsupported content type {content_type[:80]!r}; send JSON"
            return Prepared(raw, refusal=Refusal(415, reason))
        signals, failure = self.parse(source, raw)
        if failure is not None:
            return Prepared(raw, refusal=Refusal(failure.status, failure.reason))
        # Every adapter stamps its signals with the delivery's key (tests/unit/sources hold
        # it for each sample): reading it back spares parsing the body a second time.
        key = signals[0].delivery_key if signals else delivery_key(source, raw)
        return Prepared(raw, key=key, signals=signals, stored_headers=stored_headers(raw.headers))

    def parse_stored(
        self, source_name: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[list[Signal], SourceError | None]:
        """Parse a delivery read back from the store (its signals were not kept in memory)."""
        raw = RawDelivery(source_name, body, headers, self.clock.now())
        try:
            source = get_source(source_name)
        except UnknownSourceError as exc:
            return [], SourceError(str(exc))
        return self.parse(source, raw)

    def parse(self, source: Source, raw: RawDelivery) -> tuple[list[Signal], SourceError | None]:
        """The adapter's signals, or why it refused; an adapter bug is a refusal, not a crash."""
        try:
            return source.parse(raw, self.mapping), None
        except SourceError as exc:
            return [], exc
        except Exception as exc:  # an adapter bug must not lose the delivery or crash the server
            log.exception("adapter %s failed", raw.source)
            return [], SourceError(f"adapter error: {type(exc).__name__}: {exc}")

    def _authenticate(self, source: Source, raw: RawDelivery, verify: Verify) -> None:
        if verify == "none":
            return  # before the settings are asked: unconfigured, they build an empty section
        creds = self.settings.source(raw.source)
        if verify == "all" and self.require_credentials and not creds.auth_kinds:
            raise AuthError(
                f"source {raw.source} has no credentials configured; it is accepted on loopback only"
            )
        if verify == "all" and (creds.token is not None or creds.basic_user is not None):
            check_authorization(raw.header("authorization"), creds)
        if creds.secret is not None and source.signature_header is not None:
            source.verify(raw, creds.secret.get_secret_value(), raw.received_at)


def delivery_key(source: Source, raw: RawDelivery) -> str:
    """The sender's identity for a delivery, which makes its retries duplicates."""
    try:
        return source.delivery_key(raw)
    except Exception:  # unreadable body: the bytes themselves identify it
        return body_key(raw.body)


_KNOWN_SCHEMES = frozenset({"basic", "bearer", "digest", "negotiate", "ntlm", "token", "hoba"})
"""Scheme words a refusal may name. Anything else is the sender's text, and often the
credential itself (``Authorization: <token>`` with no scheme): it is never quoted back."""


def check_authorization(header: str | None, creds: SourceSettings) -> None:
    """Bearer or basic credentials, compared in constant time.

    No reason given here quotes any part of the header: reasons are stored with the delivery,
    journaled, and shown by ``deliveries``.
    """
    if not header:
        raise AuthError("missing Authorization header", 401)
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and creds.token is not None:
        if hmac.compare_digest(value.strip().encode(), creds.token.get_secret_value().encode()):
            return
        raise AuthError("invalid bearer token", 403)
    if scheme == "basic" and creds.basic_user is not None and creds.basic_password is not None:
        try:
            user, _, password = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("malformed basic credentials", 401) from None
        user_ok = hmac.compare_digest(user.encode(), creds.basic_user.encode())
        password_ok = hmac.compare_digest(
            password.encode(), creds.basic_password.get_secret_value().encode()
        )
        if user_ok and password_ok:
            return
        raise AuthError("invalid basic credentials", 403)
    expected = " or ".join(k for k in ("bearer", "basic") if k in creds.auth_kinds) or "credentials"
    named = f" {scheme.capitalize()}" if scheme in _KNOWN_SCHEMES else ""
    raise AuthError(f"unsupported Authorization scheme{named}: expected {expected}", 401)

"""Fuzzing the receiver at the socket: request lines, headers, framing and bodies (DESIGN §5).

tests/unit/test_fuzz.py fuzzes what the adapters and the Ingestor make of a body; this file fuzzes
what comes before: one real server on loopback for the whole module, fed raw bytes no HTTP client
would send (bad request lines, duplicated and folded headers, lying Content-Length, broken chunked
framing, gzip, Expect). Each example gets one aspect of a request wrong (ASPECTS), several, or
nothing; per example:

1. no answer is 5xx (the store is healthy here), and an answer or a closed connection comes within
   the read timeout plus a margin; what every HTTP parser must refuse gets a 4xx or a close, and a
   well-formed, authenticated sample gets a 2xx;
2. the server still answers ``GET /healthz`` with 200 on a fresh connection;
3. what an answer promises is what the deliveries table holds: a 2xx delivery id names a row with
   exactly the bytes the app received (after chunked decoding), a 400/415 keeps the raw bytes, a
   401/403/404 keeps at most the first 4096; and no row appears that no answer told the sender of.

The receiver serves with uvicorn's httptools protocol made strict (oncall_tui/server/protocol.py).
The tests at the end pin what that protocol fixes in uvicorn's (an unbounded head, a body lost
after an upgrade offer, garbage answered before the request pipelined ahead of it, no Host check)
and the deadline for a request head that neither parser has.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.record import UNAUTHENTICATED_KEEP_BYTES
from oncall_tui.server.runner import ReceiverThread
from oncall_tui.sources import SOURCE_MODULES
from tests.integration.conftest import STORY_TIME
from tests.integration.faults_common import pagerduty_event, pagerduty_key
from tests.support.environment import drop_our_variables
from tests.support.receiver_http import request
from tests.support.samples import SAMPLE_SECRET, SAMPLES
from tests.unit.test_fuzz import _mutate, json_values

MAX_BODY = 64 * 1024
READ_TIMEOUT_S = 1.0
ANSWER_WITHIN_S = READ_TIMEOUT_S + 4.0
"""A stalled body is answered 408 after READ_TIMEOUT_S; the margin is for a loaded CI machine."""
TOKEN = "fuzz-bearer-token"
SOURCES = sorted(SOURCE_MODULES)
UNKNOWN_SOURCES = ["nagios", "zabbix", "PagerDuty", "pagerduty ", ".."]

FUZZ_SETTINGS = settings(
    max_examples=20,  # per aspect: 15 of them, 300 examples in all
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is never a fluke
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


# --- the server, once per module ------------------------------------------------------------


@dataclass
class Receiver:
    port: int
    db: Path

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the DB read-only, from a connection of our own closed at once."""
        uri = f"{self.db.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def last_delivery_id(self) -> int:
        [(last,)] = self.rows("SELECT coalesce(max(id), 0) FROM deliveries")
        return int(last)

    def wait_for_delivery_after(self, delivery_id: int, timeout_s: float) -> None:
        """Until a delivery newer than ``delivery_id`` is stored, or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        while self.last_delivery_id() <= delivery_id and time.monotonic() < deadline:
            time.sleep(0.02)

    def healthz(self) -> int:
        return request(self.port, "GET", "/healthz", timeout_s=ANSWER_WITHIN_S).status


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    """PagerDuty signed, Alertmanager behind a bearer token, every other source open."""
    folder = tmp_path_factory.mktemp("receiver-fuzz")
    with pytest.MonkeyPatch.context() as env:  # the autouse isolation is function-scoped
        env.setenv("XDG_CONFIG_HOME", str(folder / "xdg-config"))
        drop_our_variables(env)
        config = Settings(
            db=folder / "receiver.db",
            server={
                "host": "127.0.0.1",
                "port": 0,
                "max_body_bytes": MAX_BODY,
                "read_timeout_s": READ_TIMEOUT_S,
            },
            sources={"pagerduty": {"secret": SAMPLE_SECRET}, "alertmanager": {"token": TOKEN}},
            export={"dir": folder / "export"},
        )
    thread = ReceiverThread(config, FixedClock(STORY_TIME), read_timeout_s=READ_TIMEOUT_S)
    port = thread.start()
    try:
        yield Receiver(port, config.db)
    finally:
        thread.stop()


# --- talking to it over a plain socket -------------------------------------------------------


class Hung(Exception):
    """Neither an answer nor a close before the deadline."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    complete: bool

    def json(self) -> Any:
        if not self.complete or "json" not in self.headers.get("content-type", ""):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def delivery_id(self) -> int | None:
        document = self.json()
        return document.get("delivery_id") if isinstance(document, dict) else None


class Wire:
    """One client connection that reads HTTP/1.x answers off the raw byte stream.

    Answers are framed by hand (Content-Length, chunked or close-delimited) so pipelined answers
    are seen one by one, and 1xx interim answers (100 Continue) are skipped.
    """

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.closed = False
        self.interim: list[int] = []

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes, split: int) -> None:
        try:
            self.sock.sendall(data[:split])
            if split < len(data):
                time.sleep(0.002)  # a request head or body in two segments
                self.sock.sendall(data[split:])
        except OSError:
            pass  # the server may answer and close before taking it all (413, 400)

    def _receive(self, deadline: float) -> bool:
        """More bytes into the buffer; False once the server closed (or reset) the connection."""
        if self.closed:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Hung
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise Hung from None
        except OSError:  # reset: closing with our bytes unread is a fine way to refuse
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buffer += chunk
        return True

    def _take_until(self, marker: bytes, deadline: float) -> bytes | None:
        while (end := self.buffer.find(marker)) < 0:
            if not self._receive(deadline):
                return None
        taken, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return taken

    def _take(self, size: int, deadline: float) -> bytes | None:
        while len(self.buffer) < size:
            if not self._receive(deadline):
                return None
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def answer(self, deadline: float, *, head_request: bool) -> Answer | None:
        """The next final answer; None if the connection closed before one began."""
        while True:
            head = self._take_until(b"\r\n\r\n", deadline)
            if head is None:
                return self._partial()
            status, headers = _parse_head(head)
            if 100 <= status < 200:
                self.interim.append(status)
                continue
            body = self._body(status, headers, deadline, head_request=head_request)
            return Answer(status, headers, body or b"", complete=body is not None)

    def _partial(self) -> Answer | None:
        # A status line then a close (or reset) is still a status to check.
        if self.buffer.startswith(b"HTTP/") and len(self.buffer.split(b" ", 2)) >= 2:
            code = self.buffer.split(b" ", 2)[1]
            if code.isdigit():
                return Answer(int(code), {}, b"", complete=False)
        return None

    def _body(
        self, status: int, headers: dict[str, str], deadline: float, *, head_request: bool
    ) -> bytes | None:
        if head_request or status in (204, 304):
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = b""
            while True:
                line = self._take_until(b"\r\n", deadline)
                if line is None:
                    return None
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while (trailer := self._take_until(b"\r\n", deadline)) is not None:
                        if not trailer:
                            return body
                    return None
                chunk = self._take(size + 2, deadline)
                if chunk is None:
                    return None
                body += chunk[:-2]
        if "content-length" in headers:
            return self._take(int(headers["content-length"]), deadline)
        while self._receive(deadline):  # close-delimited
            pass
        body, self.buffer = self.buffer, b""
        return body


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = head.split(b"\r\n")
    version, code, *_ = status_line.split(b" ", 2)
    assert version in (b"HTTP/1.1", b"HTTP/1.0"), f"not an HTTP/1.x answer: {head[:200]!r}"
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return int(code), headers


@dataclass
class Talk:
    answers: list[Answer]
    interim: list[int]
    hung: bool
    seconds: float


def talk(receiver: Receiver, exchange: Exchange) -> Talk:
    """Send the exchange, read the answer to it, and any pipelined answers already on their way."""
    wire = Wire(receiver.port)
    answers: list[Answer] = []
    hung = False
    head_request = exchange.method == b"HEAD"
    try:
        wire.send(exchange.wire, exchange.split)
        started = time.monotonic()
        try:
            first = wire.answer(started + ANSWER_WITHIN_S, head_request=head_request)
            if first is not None:
                answers.append(first)
            # Bytes past the request (a Content-Length shorter than the body, or a body without
            # any framing) are parsed as a next request: read what that got, without waiting.
            while first is not None and exchange.leftover and not wire.closed:
                later = wire.answer(time.monotonic() + 0.1, head_request=head_request)
                if later is None:
                    break
                answers.append(later)
        except Hung:
            hung = not answers
        return Talk(answers, wire.interim, hung, time.monotonic() - started)
    finally:
        wire.close()


# --- what to send ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    source: str
    name: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    """What the sender sends beside the body, minus type, credentials and webhook id."""
    webhook_id: str | None


_OWN_HEADERS = {"content-type", "x-pagerduty-signature", "x-webhook-id"}


def _load_samples() -> dict[str, list[Sample]]:
    samples: dict[str, list[Sample]] = {}
    for source in SOURCES:
        for path in sorted((SAMPLES / source).glob("*.json")):
            if path.name.endswith(".headers.json"):
                continue
            headers_file = path.with_name(f"{path.stem}.headers.json")
            sent = json.loads(headers_file.read_text()) if headers_file.exists() else {}
            if source == "github" and not sent:  # the event type is in a header
                sent = {"X-GitHub-Event": "deployment_status"}
            kept = tuple((k, v) for k, v in sent.items() if k.lower() not in _OWN_HEADERS)
            samples.setdefault(source, []).append(
                Sample(source, path.name, path.read_bytes(), kept, sent.get("X-Webhook-Id"))
            )
    return samples


SAMPLE_BODIES = _load_samples()


def _signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Exchange:
    wire: bytes
    split: int
    method: bytes
    app_body: bytes | None
    """The body the app reads if the HTTP layer lets the request through; None when it must not
    reach the ingest path at all (refused framing, a body that never completes, over the limit)."""
    refused: bool
    """The HTTP layer itself must refuse it: a 4xx (or a close) and never a delivery id."""
    clean: bool
    """Well-formed, authenticated, a real sample, nothing odd: it must be answered 2xx."""
    leftover: bool
    framing: str
    odd: str
    """What it gets wrong, for the statistics."""


TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
LINE_BYTES = st.lists(
    st.sampled_from([byte for byte in range(256) if byte not in (0x0A, 0x0D)]), max_size=40
).map(bytes)
"""Any bytes but CR and LF: random header values and request-line parts stay on their line."""

ASPECTS = [
    "method", "target", "version", "line", "host", "type", "credentials", "identity", "length",
    "chunking", "body", "headers", "encoding",
]  # fmt: skip
"""What a request can get wrong. Each is fuzzed alone (to see each refusal on its own), and
several at once; "nothing" sends well-formed, authenticated samples, which must be answered 2xx."""

# What h11 and httptools (llhttp) both refuse is flagged ``refused`` below. What only one of
# them refuses (a missing version, HTTP/1.2, a lowercase or unknown method, two spaces between
# the parts, bare LF line ends, obs-fold, Content-Length twice, Content-Length with chunked) is
# sent too, and only the general properties are checked for it.
OTHER_METHODS = [b"GET", b"HEAD", b"PUT", b"PATCH", b"DELETE", b"OPTIONS", b"TRACE", b"post"]
ODD_VERSIONS = [b"HTTP/2.0", b"HTTP/1.2", b"HTTP/0.9", b""]
BAD_VERSIONS = [b"http/1.1", b"HTTP/11", b"HTTP/1.1 x", b"HTTP"]


def _method(draw: st.DrawFn, odd: bool) -> bytes:
    if not odd:
        return b"POST"
    if draw(st.booleans()):
        return draw(st.text(TOKEN_CHARS, min_size=1, max_size=10)).encode()
    return draw(st.sampled_from(OTHER_METHODS))


TARGET_KINDS = [
    "query", "slash", "encoded", "traversal", "dotdot-encoded", "escape-encoded", "double-slash",
    "upper", "unknown", "nul", "bad-utf8", "long", "non-ascii", "control", "absolute", "asterisk",
    "healthz", "sessions", "heartbeat", "random", "empty",
]  # fmt: skip


def _target(draw: st.DrawFn, source: str, odd: bool) -> tuple[bytes, bool]:
    """(request target, whether every parser must refuse it)."""
    if not odd:
        return f"/webhooks/{source}".encode(), False
    kind = draw(st.sampled_from(TARGET_KINDS))
    encoded = "".join(f"%{byte:02X}" for byte in source.encode())
    targets = {
        "query": f"/webhooks/{source}?x=1&y",
        "slash": f"/webhooks/{source}/",
        "encoded": f"/webhooks/{encoded}",  # the same source, once decoded
        "traversal": f"/webhooks/../webhooks/{source}",
        "dotdot-encoded": "/webhooks/%2e%2e",
        "escape-encoded": "/webhooks/..%2F..%2Fetc%2Fpasswd",
        "double-slash": f"//webhooks/{source}",
        "upper": f"/WEBHOOKS/{source}",
        "nul": "/webhooks/%00",
        "bad-utf8": "/webhooks/%ff%fe%C0%AF",
        "absolute": f"http://127.0.0.1/webhooks/{source}",
        "asterisk": "*",
        "healthz": "/healthz",
        "sessions": "/sessions",
        "heartbeat": "/sessions/fuzz-session/heartbeat",
    }
    if kind == "unknown":
        name = draw(st.sampled_from(UNKNOWN_SOURCES) | st.text("abcxyz-_.~09", max_size=12))
        return f"/webhooks/{name}".encode(), False
    if kind == "long":
        return b"/webhooks/" + b"a" * draw(st.sampled_from([300, 5000, 20000])), False
    if kind == "non-ascii":  # raw UTF-8 in the request line
        return f"/webhooks/{source}é".encode(), True
    if kind == "control":
        return f"/webhooks/{source}\x01".encode(), True
    if kind == "random":
        return draw(LINE_BYTES), False
    if kind == "empty":
        return b"", True
    return targets[kind].encode(), False


def _chunked(draw: st.DrawFn, payload: bytes) -> bytes:
    cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=4)))
    bounds = list(zip([0, *cuts], [*cuts, len(payload)], strict=True))
    framed = b""
    for start, end in bounds:
        if end > start:
            size = draw(st.sampled_from(["{:x}", "{:X}", "{:04x}"])).format(end - start)
            extension = draw(st.sampled_from(["", "", ";name=value", ";x", ';q="a b"']))
            framed += f"{size}{extension}\r\n".encode() + payload[start:end] + b"\r\n"
    trailer = draw(st.sampled_from([b"", b"", b"X-Trailer: 1\r\n"]))
    return framed + b"0\r\n" + trailer + b"\r\n"


def _broken_chunked(draw: st.DrawFn, payload: bytes) -> tuple[bytes, bool]:
    """(chunked framing gone wrong, whether it merely stops short: a stall, not an error)."""
    size = len(payload)
    kind = draw(
        st.sampled_from(
            ["bad-hex", "negative", "too-small", "no-crlf", "bad-trailer", "too-big", "no-end"]
        )
    )
    if kind == "bad-hex":
        return b"zz\r\n" + payload + b"\r\n0\r\n\r\n", False
    if kind == "negative":
        return b"-1\r\n" + payload + b"\r\n0\r\n\r\n", False
    if kind == "too-small" and size >= 2:  # the data runs past its chunk
        return f"{size - 1:x}\r\n".encode() + payload + b"\r\n0\r\n\r\n", False
    if kind == "no-crlf" and size >= 1:
        return f"{size:x}\r\n".encode() + payload + b"0\r\n\r\n", False
    if kind == "bad-trailer":
        return _chunked(draw, payload)[:-2] + b"no colon in this trailer\r\n\r\n", False
    if kind == "too-big":  # announces more than ever comes
        return f"{size + 10:x}\r\n".encode() + payload + b"\r\n0\r\n\r\n", True
    return _chunked(draw, payload)[: -len(b"0\r\n\r\n")], True  # no last chunk: never ends


PLAIN_FRAMINGS = ["exact", "exact", "zeros", "chunked", "Chunked"]
"""Framings every HTTP/1.1 parser must take."""
ODD_LENGTHS = [
    "list",
    "twice",
    "shorter",
    "longer",
    "negative",
    "words",
    "conflict",
    "huge",
    "none",
]
ODD_CHUNKINGS = [
    "chunked+length", "broken-chunked", "broken-chunked", "te-gzip", "te-twice", "te-list",
    "chunk-ext-space",
]  # fmt: skip


@dataclass(frozen=True)
class Framing:
    kind: str
    lines: list[bytes]
    body: bytes
    """What goes on the wire after the head."""
    app_body: bytes | None
    """What the app reads, or None when nothing may reach the ingest path."""
    refused: bool


def _framing(draw: st.DrawFn, payload: bytes, odd_length: bool, odd_chunking: bool) -> Framing:
    kinds = (ODD_LENGTHS if odd_length else []) + (ODD_CHUNKINGS if odd_chunking else [])
    kind = draw(st.sampled_from(kinds or PLAIN_FRAMINGS))
    size = len(payload)
    whole = payload if size <= MAX_BODY else None  # over the limit: 413, nothing stored
    length = b"Content-Length: %d" % size
    if kind == "shorter" and size == 0:
        kind = "exact"
    if kind == "exact":
        return Framing(kind, [length], payload, whole, False)
    if kind == "zeros":
        return Framing(kind, [b"Content-Length: 000%d" % size], payload, whole, False)
    if kind == "list":
        return Framing(kind, [b"Content-Length: %d, %d" % (size, size)], payload, whole, False)
    if kind == "twice":
        return Framing(kind, [length, length], payload, whole, False)
    if kind == "shorter":  # the rest is read as the next request
        cut = draw(st.integers(0, size - 1))
        kept = payload[:cut] if cut <= MAX_BODY else None
        return Framing(kind, [b"Content-Length: %d" % cut], payload, kept, False)
    if kind == "longer":  # the rest never comes: 408 once the read timeout passes
        more = draw(st.integers(1, 100))
        return Framing(kind, [b"Content-Length: %d" % (size + more)], payload, None, False)
    if kind == "negative":
        return Framing(kind, [b"Content-Length: -%d" % max(size, 1)], payload, None, True)
    if kind == "words":
        value = draw(st.sampled_from([b"abc", b"1e3", b"0x10", b"+5", b"", b"\xef\xbc\x91"]))
        return Framing(kind, [b"Content-Length: " + value], payload, None, True)
    if kind == "conflict":
        lines = [length, b"Content-Length: %d" % (size + 1)]
        return Framing(kind, lines, payload, None, True)
    if kind == "huge":  # a number the parsers take and the app refuses before reading (413)
        return Framing(kind, [b"Content-Length: " + b"9" * 19], payload, None, False)
    if kind == "none":  # no framing: no body, and its bytes are read as the next request
        return Framing(kind, [], payload, b"", False)
    chunked = [b"Transfer-Encoding: chunked"]
    if kind in ("chunked", "Chunked"):
        lines = [b"Transfer-Encoding: " + kind.encode()]
        return Framing(kind, lines, _chunked(draw, payload), whole, False)
    if kind == "chunked+length":  # chunked wins; a declared length over the limit is 413 first
        declared = draw(st.sampled_from([size, size + 7, 0, MAX_BODY + 1]))
        lines = [*chunked, b"Content-Length: %d" % declared]
        app_body = whole if declared <= MAX_BODY else None
        return Framing(kind, lines, _chunked(draw, payload), app_body, False)
    if kind == "chunk-ext-space":  # "5 ;x": BWS before a chunk extension (llhttp refuses it)
        framed = b"%x ;x\r\n" % size + payload + b"\r\n0\r\n\r\n" if size else b"0\r\n\r\n"
        return Framing(kind, chunked, framed, whole, False)
    if kind == "broken-chunked":
        framed, stalls = _broken_chunked(draw, payload)
        return Framing(kind + ("-stall" if stalls else ""), chunked, framed, None, not stalls)
    if kind == "te-gzip":
        value = draw(st.sampled_from([b"gzip", b"gzip, chunked", b"identity", b"chunked, gzip"]))
        lines = [b"Transfer-Encoding: " + value]
        if value == b"gzip, chunked":  # chunked last: h11 refuses it, llhttp takes it
            return Framing(kind, lines, _chunked(draw, payload), whole, False)
        return Framing(kind, lines, _chunked(draw, payload), None, True)
    if kind == "te-twice":
        return Framing(kind, chunked * 2, _chunked(draw, payload), None, True)
    assert kind == "te-list"
    lines = [b"Transfer-Encoding: chunked, chunked"]
    return Framing(kind, lines, _chunked(draw, payload), None, True)


def _payload(draw: st.DrawFn, sample: Sample, odd: bool) -> bytes:
    if not odd:  # the sample as sent, or padded past the 4096 bytes kept when unauthenticated
        return sample.body + draw(st.sampled_from([b"", b"", b" " * 5000]))
    kind = draw(st.sampled_from(["mutated", "mutated", "random", "json", "empty", "big"]))
    if kind == "mutated":
        path = draw(st.lists(st.text(max_size=3), min_size=1, max_size=4))
        return json.dumps(_mutate(json.loads(sample.body), path, draw(json_values))).encode()
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "empty":
        return b""
    size = draw(st.sampled_from([MAX_BODY, MAX_BODY + 1, 3 * MAX_BODY]))
    return (b"0123456789abcdef" * (size // 16 + 1))[:size]


PLAIN_TYPES = [
    [b"Content-Type: application/json"],
    [b"Content-Type: application/json; charset=utf-8"],
    [b"Content-Type: Application/JSON"],
]
ODD_TYPES = [
    [b"Content-Type: text/plain"],  # what a web page can post cross-site: 415
    [],
    [b"Content-Type: application/x-www-form-urlencoded"],
    [b"Content-Type: application/json", b"Content-Type: text/html"],
    [b"Content-Type: application/x-www-form-urlencoded", b"Content-Type: application/json"],
    [b"Content-Type: "],
    [b"Content-Type: application/\r\n json"],  # obs-fold
    [b"Content-Type: application/json\x01"],
]


def _credentials(draw: st.DrawFn, source: str, signed: bytes, odd: bool) -> list[bytes]:
    """The source's credentials (right unless ``odd``); ``signed`` is what to sign."""
    if source == "pagerduty":
        good = f"v1={_signature(SAMPLE_SECRET, signed)}".encode()
        bad = f"v1={_signature('not-the-secret', signed)}".encode()
        name = b"X-PagerDuty-Signature: "
        if not odd:
            return [name + draw(st.sampled_from([good, bad + b"," + good, bad + b", " + good]))]
        return draw(
            st.sampled_from(
                [
                    [name + bad],
                    [],
                    [name],
                    [name + bad, name + good],
                    [name + good.replace(b"v1=", b"v0=")],
                    [name + good.upper()],
                    [name + draw(LINE_BYTES)],
                ]
            )
        )
    if source == "alertmanager":
        token = TOKEN.encode()
        if not odd:
            return [draw(st.sampled_from([b"Authorization: Bearer ", b"authorization: bearer "]))
                    + token]  # fmt: skip
        return draw(
            st.sampled_from(
                [
                    [b"Authorization: Bearer nope"],
                    [],
                    [b"Authorization: Bearer " + token] * 2,
                    [b"Authorization: Basic dXNlcjpwYXNz"],
                    [b"Authorization: Bearer"],
                    [b"Authorization: Bearer " + token + b"x"],
                    [b"Authorization: " + draw(LINE_BYTES)],
                ]
            )
        )
    if odd:  # open sources ignore credentials
        return [b"Authorization: Bearer " + draw(st.text(TOKEN_CHARS, max_size=20)).encode()]
    return []


def _webhook_id(draw: st.DrawFn, sample: Sample, odd: bool) -> list[bytes]:
    if sample.source != "pagerduty":
        return []
    fresh = f"fuzz-{draw(st.text('0123456789abcdef', min_size=1, max_size=12))}"
    if not odd:  # a retry of the sample's delivery, or a delivery of its own
        return [f"X-Webhook-Id: {draw(st.sampled_from([sample.webhook_id, fresh]))}".encode()]
    return draw(
        st.sampled_from(
            [[], [f"X-Webhook-Id: {fresh}".encode(), f"X-Webhook-Id: {fresh}-2".encode()]]
        )
    )


PLAIN_HEADERS = [
    b"Connection: close",
    b"Connection: keep-alive",
    b"Accept-Encoding: gzip",
    b"Cookie: a=b; c=d",
    b"X-Forwarded-For: 10.0.0.1, 10.0.0.2",
    b"TE: trailers",
    b"X-Long: " + b"v" * 5000,
    b"User-Agent: fuzz/1.0",
    b"Expect: 100-continue",
]
ODD_HEADERS = [
    b"Expect: something-else",
    b"Content-Encoding: br",
    b"X-Control: a\x01b\x7fc\x1b[31m",
    b"X-Latin1: caf\xe9 \xff",
    b"X-Huge: " + b"v" * 70000,
    b"Host: second.example",
    b"X-Folded: first\r\n  continued",  # obs-fold
    b"Connection: Upgrade\r\nUpgrade: h2c",
    b"Origin: null",  # a web page's request: 403, never a delivery
]
REFUSED_HEADERS = [
    b"X-Nul: a\x00b",
    b"X Bad: space in the name",
    b"X-Space : before the colon",
    b": no name",
    b"N\xc3\xa4me: non-ASCII name",
    b"no colon in this line",
    b"X-VT: a\x0bb",
]


def _headers(draw: st.DrawFn, odd: bool) -> tuple[list[bytes], bool]:
    """(more header lines, whether every parser must refuse one of them)."""
    lines = draw(st.lists(st.sampled_from(PLAIN_HEADERS), max_size=2))
    if not odd:
        return lines, False
    refused = False
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["random", "odd", "refused"]))
        if kind == "random":
            name = draw(st.text(TOKEN_CHARS, min_size=1, max_size=12)).encode()
            lines.append(b"X-" + name + b": " + draw(LINE_BYTES))
        elif kind == "odd":
            lines.append(draw(st.sampled_from(ODD_HEADERS)))
        else:
            refused = True
            lines.append(draw(st.sampled_from(REFUSED_HEADERS)))
    return lines, refused


@st.composite
def exchanges(draw: st.DrawFn, aspect: str) -> Exchange:
    """A request that gets ``aspect`` wrong ("nothing", one of ASPECTS, or "several")."""
    if aspect == "several":
        odd = draw(st.sets(st.sampled_from(ASPECTS), min_size=2, max_size=5))
    else:
        odd = {aspect} & set(ASPECTS)

    if "credentials" in odd:  # the two sources that check them
        source = draw(st.sampled_from(["pagerduty", "alertmanager"]))
    else:
        source = draw(st.sampled_from(["pagerduty", "alertmanager", *SOURCES]))
    sample = draw(st.sampled_from(SAMPLE_BODIES[source]))
    method = _method(draw, "method" in odd)
    target, target_refused = _target(draw, source, "target" in odd)
    payload = _payload(draw, sample, "body" in odd)
    encoding: list[bytes] = []
    if "encoding" in odd:  # the server decodes no Content-Encoding: the bytes are the body
        payload = gzip.compress(payload, mtime=0)
        encoding = [draw(st.sampled_from([b"Content-Encoding: gzip", b"Content-Encoding: br"]))]
    framing = _framing(draw, payload, "length" in odd, "chunking" in odd)
    signed = payload if framing.app_body is None else framing.app_body
    credentials = _credentials(draw, source, signed, "credentials" in odd)
    content_type = draw(st.sampled_from(ODD_TYPES if "type" in odd else PLAIN_TYPES))
    more_headers, headers_refused = _headers(draw, "headers" in odd)

    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]))
    version_refused = False
    if "version" in odd:
        version = draw(st.sampled_from(ODD_VERSIONS + BAD_VERSIONS))
        version_refused = version in BAD_VERSIONS
    host = [b"Host: 127.0.0.1"]
    # llhttp checks no Host, our protocol does (test_a_request_without_one_host_is_refused).
    if "host" in odd:
        host = draw(st.sampled_from([[], [b"Host: a", b"Host: b"], [b"Host: "], [b"Host: \xff"]]))

    separator, eol, garbage, fold_first = b" ", b"\r\n", False, False
    if "line" in odd:
        kind = draw(st.sampled_from(["double-space", "tab", "bare-lf", "garbage", "fold-first"]))
        separator = {"double-space": b"  ", "tab": b"\t"}.get(kind, b" ")
        eol = b"\n" if kind == "bare-lf" else b"\r\n"
        garbage, fold_first = kind == "garbage", kind == "fold-first"
    request_line = separator.join([method, target, version]).rstrip(b" ")
    if garbage:
        request_line = draw(LINE_BYTES)

    lines = [
        *host,
        *content_type,
        *(f"{name}: {value}".encode() for name, value in sample.headers),
        *_webhook_id(draw, sample, "identity" in odd),
        *credentials,
        *framing.lines,
        *encoding,
        *more_headers,
    ]
    lines = list(draw(st.permutations(lines)))
    if fold_first:  # a continuation line with nothing to continue
        lines.insert(0, b"  folded onto nothing")
    head = eol.join([request_line, *lines]) + eol + eol
    wire = head + framing.body
    split = draw(st.integers(0, len(wire))) if draw(st.booleans()) else len(wire)

    refused = not garbage and (
        version_refused
        or target_refused
        or separator == b"\t"
        or framing.refused
        or headers_refused
        or fold_first
    )
    return Exchange(
        wire=wire,
        split=split,
        method=method,
        app_body=framing.app_body,
        refused=refused,
        clean=not odd,
        leftover=framing.kind in ("shorter", "none") and bool(payload),
        framing=framing.kind,
        odd=",".join(sorted(odd)) or "nothing",
    )


# --- the properties ----------------------------------------------------------------------------


@pytest.mark.parametrize("aspect", ["nothing", *ASPECTS, "several"])
@FUZZ_SETTINGS
@given(data=st.data())
def test_any_request_gets_a_4xx_or_is_kept_never_a_5xx(
    receiver: Receiver, aspect: str, data: st.DataObject
) -> None:
    exchange = data.draw(exchanges(aspect), label="exchange")
    before = receiver.last_delivery_id()
    result = talk(receiver, exchange)
    first = result.answers[0] if result.answers else None
    note(f"answers: {[(a.status, a.body[:200]) for a in result.answers]} in {result.seconds:.2f} s")
    event(f"framing: {exchange.framing}")
    event(f"answer: {first.status if first else 'closed'}{' (clean)' if exchange.clean else ''}")

    # 1. Never a 5xx, never a hang; what the HTTP layer must refuse is refused.
    assert not result.hung, f"no answer and no close within {ANSWER_WITHIN_S} s"
    statuses = [*result.interim, *(a.status for a in result.answers)]
    assert all(status < 500 for status in statuses), statuses
    if exchange.refused:
        assert all(400 <= a.status < 500 and a.delivery_id is None for a in result.answers)
    if exchange.clean:
        assert first is not None and 200 <= first.status < 300, first
        assert first.delivery_id is not None

    # 2. Still alive.
    assert receiver.healthz() == 200

    # 3. What was answered is what was kept; nothing was kept that was not answered.
    answered = [a.delivery_id for a in result.answers if a.delivery_id is not None]
    if exchange.app_body is None:
        assert answered == [], "a request that must not reach the ingest path got a delivery"
    assert all(a.delivery_id is None for a in result.answers[1:]), "a leftover was ingested"
    if exchange.leftover and exchange.app_body is not None and not answered:
        receiver.wait_for_delivery_after(before, timeout_s=1.0)  # answered out of order?
    new = {row[0] for row in receiver.rows("SELECT id FROM deliveries WHERE id > ?", (before,))}
    unannounced = sorted(new - set(answered))
    assert not unannounced, f"deliveries {unannounced} kept unannounced"
    if first is not None and first.delivery_id is not None:
        assert exchange.app_body is not None
        _check_kept(receiver, first, exchange.app_body, before)


def _check_kept(receiver: Receiver, answer: Answer, sent: bytes, before: int) -> None:
    delivery_id = answer.delivery_id
    rows = receiver.rows("SELECT body, http_status FROM deliveries WHERE id = ?", (delivery_id,))
    assert len(rows) == 1, f"delivery {delivery_id} was answered but is not stored"
    [(body, http_status)] = rows
    if 200 <= answer.status < 300:
        if delivery_id is not None and delivery_id <= before:  # a retry of an earlier one
            assert answer.json().get("status") in (None, "duplicate"), answer.body
        else:
            assert body == sent, "the stored body is not the one received"
        return
    assert delivery_id is not None and delivery_id > before, "a refusal reused a delivery id"
    assert http_status == answer.status
    if answer.status in (401, 403, 404):  # unauthenticated: only the start is kept
        assert body == sent[:UNAUTHENTICATED_KEEP_BYTES]
    else:
        assert body == sent, "the raw bytes of a refused delivery were not kept"


# --- a stalled request head ----------------------------------------------------------------------


def test_a_request_head_that_never_completes_is_dropped(receiver: Receiver) -> None:
    wire = Wire(receiver.port)
    try:
        wire.send(b"POST /webhooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n", 10**6)
        started = time.monotonic()
        try:
            answer = wire.answer(started + ANSWER_WITHIN_S, head_request=False)
        except Hung:
            pytest.fail(f"the half-sent request head was still held open after {ANSWER_WITHIN_S} s")
    finally:
        wire.close()
    assert answer is None or 400 <= answer.status < 500
    assert receiver.healthz() == 200


def test_an_oversized_request_head_is_refused(receiver: Receiver) -> None:
    head = (
        b"POST /webhooks/grafana HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"X-Padding: " + b"v" * (1 << 20) + b"\r\nContent-Length: 2\r\n\r\n"
    )  # a 1 MiB head: 16 times the body limit
    wire = head + b"{}"
    exchange = Exchange(wire, len(wire), b"POST", None, True, False, False, "exact", "head")
    result = talk(receiver, exchange)
    assert not result.hung
    assert all(400 <= a.status < 500 and a.delivery_id is None for a in result.answers)
    assert receiver.healthz() == 200


@pytest.mark.parametrize("host", [b"", b"Host: a\r\nHost: b\r\n"], ids=["missing", "twice"])
def test_a_request_without_one_host_is_refused(receiver: Receiver, host: bytes) -> None:
    wire = (
        b"POST /webhooks/grafana HTTP/1.1\r\n" + host + b"Content-Type: application/json\r\n"
        b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    result = talk(
        receiver, Exchange(wire, len(wire), b"POST", None, True, False, False, "exact", "head")
    )
    assert result.answers, "no answer"
    assert all(a.status == 400 and a.delivery_id is None for a in result.answers)


def test_a_body_sent_with_an_upgrade_offer_is_read(receiver: Receiver) -> None:
    [sample] = [s for s in SAMPLE_BODIES["grafana"] if s.name == "firing.json"]
    wire = (
        b"POST /webhooks/grafana HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
        b"Content-Length: %d\r\n\r\n" % len(sample.body)
    ) + sample.body
    exchange = Exchange(
        wire, len(wire), b"POST", sample.body, False, True, False, "exact", "upgrade"
    )
    result = talk(receiver, exchange)
    assert result.answers, "no answer"
    answer = result.answers[0]
    assert answer.delivery_id is not None
    [(body,)] = receiver.rows("SELECT body FROM deliveries WHERE id = ?", (answer.delivery_id,))
    assert body == sample.body
    assert 200 <= answer.status < 300, answer.body


def test_pipelined_garbage_is_answered_after_the_request(receiver: Receiver) -> None:
    [sample] = [s for s in SAMPLE_BODIES["grafana"] if s.name == "firing.json"]
    request = (
        b"POST /webhooks/grafana HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(sample.body)
    ) + sample.body
    wire = request + b"{not a request}\r\n\r\n"
    exchange = Exchange(wire, len(wire), b"POST", sample.body, False, True, True, "exact", "pipe")
    result = talk(receiver, exchange)
    assert result.answers, "no answer"
    first = result.answers[0]
    assert 200 <= first.status < 300, (first.status, first.body)
    assert first.delivery_id is not None


# --- concurrent retries ----------------------------------------------------------------------


def test_concurrent_retries_are_each_answered_2xx_and_stored_once(receiver: Receiver) -> None:
    """8 senders post the same signed PagerDuty delivery at once, 5 deliveries over.

    (test_receiver.py has 5 senders, once; this also runs against the fuzzed server's DB.)
    """
    [sample] = [s for s in SAMPLE_BODIES["pagerduty"] if s.name == "triggered.json"]
    senders = 8

    def send(body: bytes, headers: dict[str, str], barrier: threading.Barrier) -> tuple[int, Any]:
        barrier.wait(timeout=10)  # every sender at once: the same event races itself
        reply = request(receiver.port, "POST", "/webhooks/pagerduty", body, headers)
        return reply.status, reply.json

    for round_number in range(5):
        event_id = f"concurrency-{round_number}"  # its own event: its own delivery
        body = pagerduty_event(event_id)
        headers = {
            **dict(sample.headers),
            "Content-Type": "application/json",
            "X-Webhook-Id": event_id,
            "X-PagerDuty-Signature": f"v1={_signature(SAMPLE_SECRET, body)}",
        }
        barrier = threading.Barrier(senders)
        with ThreadPoolExecutor(senders) as pool:
            futures = [pool.submit(send, body, headers, barrier) for _ in range(senders)]
            replies = [future.result() for future in futures]

        assert all(200 <= status < 300 for status, _ in replies), replies
        ids = {reply["delivery_id"] for _, reply in replies}
        rows = receiver.rows(
            "SELECT id, body FROM deliveries WHERE delivery_key = ?", (pagerduty_key(event_id),)
        )
        assert len(rows) == 1, f"round {round_number}: {len(rows)} rows for one event"
        assert ids == {rows[0][0]}
        assert rows[0][1] == body

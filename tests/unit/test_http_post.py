"""The hand-spoken HTTP/1.1 of short-lived clients: what it accepts and what it refuses.

Answers are shaped as RFC 9112 writes them (status line, header fields, ``Content-Length``
body, §6.3) and as uvicorn sends our JSON responses.
"""

from __future__ import annotations

import pytest

from oncall_tui.agents.http_post import MAX_ANSWER_BYTES, _parse_answer

OK = (
    b"HTTP/1.1 200 OK\r\ndate: Wed, 02 Dec 2026 19:00:00 GMT\r\ncontent-length: 15\r\n"
    b"content-type: application/json\r\nconnection: close\r\n\r\n"
    b'{"context":"x"}'
)


def test_a_plain_answer_gives_its_status_and_body() -> None:
    assert _parse_answer(OK) == (200, b'{"context":"x"}')


def test_an_error_status_is_told_with_its_body() -> None:
    raw = b'HTTP/1.1 401 Unauthorized\r\ncontent-length: 17\r\n\r\n{"error":"token"}'
    assert _parse_answer(raw) == (401, b'{"error":"token"}')


def test_a_body_without_length_runs_to_the_close() -> None:
    assert _parse_answer(b"HTTP/1.0 200 OK\r\n\r\n{}") == (200, b"{}")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n",  # the head never ended
        b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n{}",  # the body cut short
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",  # another service on the port
    ],
)
def test_anything_else_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        _parse_answer(raw)


def test_a_huge_body_is_cut_at_the_limit() -> None:
    body = b"x" * (MAX_ANSWER_BYTES + 10)
    raw = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body
    assert len(_parse_answer(raw)[1]) == MAX_ANSWER_BYTES

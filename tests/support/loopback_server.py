"""An ASGI app served by uvicorn on a loopback socket in a thread: a real server for a test."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import uvicorn

from tests.support.receiver_http import LOOPBACK

START_TIMEOUT_S = 10.0


@dataclass
class LoopbackServer:
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(START_TIMEOUT_S)


def serve_on_loopback(app: Any, *, lifespan: Literal["on", "off"] = "off") -> LoopbackServer:
    """Start ``app`` on a free loopback port; returns once uvicorn says it has started."""
    sock = socket.socket()
    sock.bind((LOOPBACK, 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    return LoopbackServer(sock.getsockname()[1], server, thread)

"""A partner's webhook endpoint for tests: a real HTTP server on 127.0.0.1 that records every
request and answers what the test says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from partners.webhooks import store


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A partner's webhook endpoint: records every request, answers `status`."""

    url: str
    got: list[Received] = field(default_factory=list)
    status: int = 204
    on_request: Any = None  # called with the request's index before answering


def running_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """For a test module's `receiver` fixture (`yield from running_receiver(monkeypatch)`):
    endpoints on 127.0.0.1 are allowed while it runs."""
    monkeypatch.setenv(store.ALLOW_LOCAL_ENV, "1")
    box: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            me = box["r"]
            body = self.rfile.read(int(self.headers["content-length"]))
            me.got.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            if me.on_request is not None:
                me.on_request(len(me.got))
            self.send_response(me.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box["r"]
    server.shutdown()
    server.server_close()

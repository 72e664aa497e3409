"""A real HTTP model server that misbehaves on cue: drops connections mid-response, answers 500/429/garbage.

``tests/fixtures/openai_server.py`` answers whole responses (a reply, an HTTP error, a stall); a fault test
also needs the failures below the HTTP layer, so this server writes its answers by hand. Each request takes
the next entry of ``script``:

* a reply text: a well-formed chat completion with that content;
* ``Fault(kind)``: ``drop`` (read the request, close without a byte), ``reset`` (close with a TCP RST),
  ``cut-headers`` (half a status line and headers), ``cut-body`` (headers promising the whole body, half of
  it, then close), ``cut-chunked`` (a chunked body cut inside a chunk), ``500``, ``502``, ``503``, ``429``
  (with ``Retry-After: 0``), ``html`` (200 with an HTML error page), ``not-json`` (200, ``application/json``,
  not JSON), ``json-list`` (200 with a JSON list), ``no-choices`` (an object without ``choices``),
  ``null-content`` (``content: null``), ``bad-usage`` (``usage`` a string), ``bad-tokens`` (``prompt_tokens``
  a string), ``400`` (the request refused).

Every request body is kept (``requests``) with what it was answered (``answered``).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAULTS", "RETRIED", "Fault", "FaultyServer", "faulty_server"]

RETRIED = ("drop", "reset", "cut-headers", "cut-body", "cut-chunked", "500", "502", "503", "429", "html", "not-json",
           "json-list")  # fmt: skip
"""Faults the HTTP backend retries (connection failures, 429, 5xx, a body that is not a JSON object)."""
FAULTS = (*RETRIED, "no-choices", "null-content", "bad-usage", "bad-tokens", "400")


@dataclass(frozen=True)
class Fault:
    """One misbehaviour (see the module docstring); ``reply`` is the content of the 200 answers whose fault
    is elsewhere (``bad-usage``, ``bad-tokens``)."""

    kind: str
    reply: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}")


@dataclass
class FaultyServer:
    """The running server: its URL, its script, and what it received and answered."""

    url: str = ""
    script: list[str | Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_entry(self, body: dict[str, Any]) -> str | Fault:
        with self._lock:
            self.requests.append(body)
            entry: str | Fault = self.script.pop(0) if self.script else Fault("500")
            self.answered.append(entry.kind if isinstance(entry, Fault) else "reply")
            return entry


def _completion(content: Any, usage: Any = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": usage if usage is not None else {"prompt_tokens": 100_000, "completion_tokens": 10},
    }


def _handler(state: FaultyServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            return

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            entry = state.next_entry(body)
            try:
                if isinstance(entry, Fault):
                    self._fault(entry.kind, entry.reply)
                else:
                    self._json(200, _completion(entry))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            payload = json.dumps(data).encode()
            self._raw(status, payload, "application/json", headers)

        def _raw(self, status: int, payload: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

        def _close(self, reset: bool = False) -> None:
            self.close_connection = True
            self.wfile.flush()
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)

        def _fault(self, kind: str, reply: str) -> None:
            whole = json.dumps(_completion("click(start_box='(10,10)')")).encode()
            if kind in ("drop", "reset"):
                self._close(reset=kind == "reset")
            elif kind == "cut-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: applica")
                self._close()
            elif kind == "cut-body":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(whole)))
                self.end_headers()
                self.wfile.write(whole[: len(whole) // 2])
                self._close()
            elif kind == "cut-chunked":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(f"{len(whole):x}\r\n".encode() + whole[: len(whole) // 3])
                self._close()
            elif kind in ("500", "502", "503"):
                self._json(int(kind), {"error": {"message": "the engine is overloaded", "code": int(kind)}})
            elif kind == "429":
                self._json(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
            elif kind == "400":
                self._json(400, {"error": {"message": "bad request: [/b] max_tokens"}})
            elif kind == "html":
                self._raw(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
            elif kind == "not-json":
                self._raw(200, b'{"choices": [{"message": {"content": "cli', "application/json")
            elif kind == "json-list":
                self._json(200, [{"choices": []}])
            elif kind == "no-choices":
                self._json(200, {"id": "x", "object": "chat.completion"})
            elif kind == "null-content":
                self._json(200, _completion(None))
            elif kind == "bad-usage":
                self._json(200, _completion(reply, usage="lots"))
            elif kind == "bad-tokens":
                self._json(200, _completion(reply, usage={"prompt_tokens": "many", "completion_tokens": None}))

    return Handler


@contextmanager
def faulty_server() -> Iterator[FaultyServer]:
    """A ``FaultyServer`` on a free loopback port, stopped afterwards."""
    state = FaultyServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()

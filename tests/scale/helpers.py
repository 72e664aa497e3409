"""Shared pieces of the scale tests: a plan-following model that can kill its phone, and a killable server.

``KillingPlan`` is ``tasks.demo.PlanBackend`` (replies computed from the phone's live screen) that, on its
N-th request, stops the phone's ADB endpoint first: the adb server then sees an unplugged phone, exactly as
when a USB cable is pulled mid-task.

``KillableServer`` speaks the same chat-completions protocol as ``tests.fixtures.openai_server`` over a
real socket, but ``kill()`` really kills it: the listening socket closes *and* every open keep-alive
connection is cut (a stopped ``ThreadingHTTPServer`` would go on answering on connections it already has).
Replies are computed and written under one lock that ``kill()`` also takes, so a request is either answered
in full before the kill or not answered at all (a model that died never half-answers).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from guiagent.agent.backends.base import ModelReply, ModelRequest
from guiagent.tasks.demo import PlanBackend, Step

__all__ = ["KillableServer", "KillingPlan", "goal_router", "start_killable_server"]


class KillingPlan(PlanBackend):
    """A ``PlanBackend`` that calls ``kill()`` just before answering its ``at``-th request."""

    def __init__(self, phone: Any, plan: list[Step], kill: Callable[[], None] | None = None, at: int = 0, **kw: Any):
        super().__init__(phone, plan, **kw)
        self.kill, self.at, self.calls = kill, at, 0

    def complete(self, request: ModelRequest) -> ModelReply:
        self.calls += 1
        if self.kill is not None and self.calls == self.at:
            self.kill()
        return super().complete(request)


@dataclass
class KillableServer:
    """A scripted chat-completions server on loopback; ``answer(body) -> text`` makes each reply."""

    answer: Callable[[dict[str, Any]], str]
    latency: float = 0.0
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    dead: bool = False
    killed_at: float | None = None
    _httpd: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sockets: set[socket.socket] = field(default_factory=set)

    def kill(self) -> None:
        """Refuse new connections and cut the open ones; in-flight requests get no answer."""
        with self._lock:
            if self.dead:
                return
            self.dead = True
            self.killed_at = time.monotonic()
            for sock in list(self._sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: KillableServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

        def setup(self) -> None:
            super().setup()
            server._sockets.add(self.connection)

        def finish(self) -> None:
            server._sockets.discard(self.connection)
            super().finish()

        def do_GET(self) -> None:  # noqa: N802 - /v1/models, for reachability probes
            self._send(200, {"object": "list", "data": [{"id": "scripted"}]})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            if server.latency:
                time.sleep(server.latency)
            with server._lock:
                if server.dead:
                    self.close_connection = True
                    return
                server.requests.append(body)
                text = server.answer(body)
                self._send(200, {
                    "id": f"chatcmpl-{len(server.requests)}", "object": "chat.completion", "model": "scripted",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": sum(len(json.dumps(m)) // 4 for m in body.get("messages", [])),
                              "completion_tokens": 10},
                })  # fmt: skip

        def _send(self, status: int, data: dict[str, Any]) -> None:
            payload = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

    return Handler


def start_killable_server(answer: Callable[[dict[str, Any]], str], latency: float = 0.0) -> KillableServer:
    """Start a ``KillableServer`` on a free loopback port (kill it, or it dies with the test process)."""
    server = KillableServer(answer, latency)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server._httpd = httpd
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return server


def goal_router(followers: dict[str, PlanBackend]) -> Callable[[dict[str, Any]], str]:
    """An ``answer`` that finds the episode by its goal in the prompt and lets that episode's plan reply.

    Each request body gets ``_at`` (``time.monotonic()`` when answered)."""
    from tests.fixtures.openai_server import request_text

    def answer(body: dict[str, Any]) -> str:
        body["_at"] = time.monotonic()  # when it was answered, to order one episode's requests across servers
        text = request_text(body)
        goal = max((g for g in followers if g in text), key=len)
        return followers[goal].reply_to(text)

    return answer


def open_apps_suite(folder: Any, count: int, name: str = "open-apps") -> Any:
    """A suite YAML of ``count`` tasks that need no coordinates: open Settings, then Notes, then stop.

    Paired with ``step_answer``, the model needs to see no screen, so it can run anywhere (another
    process, a Ray worker) and still drive every task to a pass that the device's own state confirms.
    """
    from pathlib import Path

    tasks = [
        {
            "id": f"{name}-{i}",
            "goal": f"Open Settings, then open Notes (task {i})",
            "setup": [{"action": {"type": "system_button", "button": "home"}}],
            "max_steps": 6,
            "success": [
                {"name": "Notes is in front", "query": "dumpsys window windows", "contains": "com.guiagent.notes"}
            ],
        }
        for i in range(count)
    ]
    path = Path(folder) / f"{name}.yaml"
    path.write_text(json.dumps({"name": name, "tasks": tasks}))
    return path


def step_answer(body: dict[str, Any]) -> str:
    """The reply for ``open_apps_suite`` tasks: which step this is, read from the prompt's own history."""
    import re

    from guiagent.actions.families import get_family
    from guiagent.actions.types import OpenApp, Terminate
    from tests.fixtures.openai_server import request_text

    body["_at"] = time.monotonic()
    text = request_text(body)
    body["_goal"] = text[text.find("Open Settings, then") :].split(")")[0] + ")"
    done = len(re.findall(r"Step \d+:", text))
    body["_step"] = done
    family = get_family("qwen2.5-vl-mobile")
    action = [OpenApp(name="Settings"), OpenApp(name="Notes")][done] if done < 2 else Terminate(status="success")
    return family.format_action(action, thought="Next.")

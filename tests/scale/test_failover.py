"""``--base-url URL1,URL2``: episodes keep one server while it answers, and move on when it dies.

Two real HTTP servers on loopback; "killed" means the listening socket closes and every open connection is
cut (``KillableServer``), as when a vLLM replica's process dies.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from guiagent.actions.errors import ModelRequestError, ModelUnavailable
from guiagent.actions.messages import Message
from guiagent.agent.backends.base import ModelRequest
from guiagent.agent.backends.failover import Endpoint, FailoverBackend, split_base_urls
from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.tasks.demo import PlanBackend
from guiagent.tasks.pool import DevicePool
from guiagent.tasks.pool_file import parse_pool
from guiagent.tasks.pool_runner import run_pool_suite
from guiagent.tasks.suite import load_suite
from tests.fixtures.openai_server import request_text
from tests.scale.helpers import goal_router, start_killable_server
from tests.tasks.test_suite_run import PLANS

FAMILY = "qwen2.5-vl-mobile"


def _ask(backend, text: str) -> str:
    return backend.complete(ModelRequest([Message.text("user", text)])).text


def _servers_of(servers, episode: str) -> list[int]:
    """Which server (index) answered each request of ``episode``, in order."""
    seen = []
    for index, server in enumerate(servers):
        seen += [(b["_at"], index) for b in server.requests if request_text(b).startswith(episode + ":")]
    return [index for _, index in sorted(seen)]


def _stamping(reply: str):
    def answer(body):
        body["_at"] = time.monotonic()
        return reply

    return answer


def test_episodes_stay_on_their_url_then_move_when_it_dies():
    servers = [start_killable_server(_stamping("ok")) for _ in range(2)]
    backend = FailoverBackend("m", ",".join(s.url for s in servers), retry_wait=0.01, backoff=30)
    try:
        episodes = {f"ep{i}": backend.episode(f"ep{i}") for i in range(6)}
        for step in range(3):
            for key, episode in episodes.items():
                assert _ask(episode, f"{key}: step {step}") == "ok"
        first = {key: _servers_of(servers, key) for key in episodes}
        assert all(len(set(s)) == 1 for s in first.values()), first  # affinity: one server per episode
        assert sorted(s[0] for s in first.values()) == [0, 0, 0, 1, 1, 1]  # round robin at episode start
        servers[0].kill()
        for step in range(3, 5):
            for key, episode in episodes.items():
                assert _ask(episode, f"{key}: step {step}") == "ok"  # nobody fails because server 0 died
        for key, episode in episodes.items():
            used = _servers_of(servers, key)
            if first[key][0] == 0:
                assert used == [0, 0, 0, 1, 1] and episode.urls == [servers[0].url, servers[1].url]
            else:
                assert used == [1] * 5 and episode.urls == [servers[1].url]
        moved = {e["episode"] for e in backend.events}
        assert moved == {k for k, s in first.items() if s[0] == 0}
        assert all(e["url"] == servers[0].url and e["moved_to"] == servers[1].url for e in backend.events)
        status = {s["url"]: s for s in backend.status()}
        assert not status[servers[0].url]["up"] and status[servers[0].url]["failures"] == 1, "counted once"
        assert status[servers[1].url]["up"]
        assert _ask(backend.episode("new"), "new: 1") == "ok" and _servers_of(servers, "new") == [1]
    finally:
        backend.close()
        for server in servers:
            server.kill()


def test_every_url_dead_is_model_unavailable_after_the_wait():
    servers = [start_killable_server(_stamping("ok")) for _ in range(2)]
    for server in servers:
        server.kill()
    backend = FailoverBackend("m", [s.url for s in servers], retry_wait=0.01, backoff=0.2, give_up_after=1.0)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable, match="no endpoint answered within 1 s"):
        _ask(backend.episode("e"), "e: 1")
    assert time.monotonic() - started < 3, "gives up once no URL can come back within give_up_after"
    backend.close()


def test_a_url_that_comes_back_is_used_again():
    live = start_killable_server(_stamping("ok"))
    dead = start_killable_server(_stamping("never"))
    dead.kill()
    backend = FailoverBackend("m", [dead.url, live.url], retry_wait=0.01, backoff=0.3)
    assert _ask(backend.episode("a"), "a: 1") == "ok"
    assert not backend.status()[0]["up"]
    time.sleep(0.35)
    assert backend.status()[0]["up"], "the backoff ran out: the next episode may try it again"
    backend.close()
    live.kill()


def test_backoff_doubles_per_failure_and_a_success_resets_it():
    endpoint = Endpoint("http://x/v1", backend=None)  # type: ignore[arg-type]
    assert endpoint.failed("boom", 1.0, 3.0) == pytest.approx(1.0, abs=0.01)
    assert endpoint.failed("again while out", 1.0, 3.0) < 1.0, "failures while out count once"
    endpoint.down_until = 0
    assert endpoint.failed("boom", 1.0, 3.0) == pytest.approx(2.0, abs=0.01)
    endpoint.down_until = 0
    assert endpoint.failed("boom", 1.0, 3.0) == pytest.approx(3.0, abs=0.01), "capped"
    endpoint.succeeded()
    endpoint.down_until = 0
    assert endpoint.failed("boom", 1.0, 3.0) == pytest.approx(1.0, abs=0.01)


def test_a_rejected_request_is_not_failed_over(scripted_server):
    from tests.fixtures.openai_server import Fail

    scripted_server.script = [Fail(400, "bad request")]
    other = start_killable_server(_stamping("ok"))
    backend = FailoverBackend("m", [scripted_server.url, other.url], retry_wait=0.01)
    with pytest.raises(ModelRequestError):
        _ask(backend.episode("x"), "x: 1")
    assert backend.events == [] and other.requests == []
    backend.close()
    other.kill()


def test_split_base_urls():
    assert split_base_urls(" http://a/v1/ , http://b/v1,,http://a/v1") == ["http://a/v1", "http://b/v1"]


def test_a_model_server_killed_mid_suite_fails_no_task(virtual_phone_factory, adb_server, tmp_path):
    """Acceptance: four phones, two real model servers, one killed once the suite is well under way."""
    phones = {p.serial: p for p in (virtual_phone_factory() for _ in range(4))}
    followers: dict[str, PlanBackend] = {}
    router = goal_router(followers)
    servers = [start_killable_server(router, latency=0.05) for _ in range(2)]
    backend = FailoverBackend("Qwen/Qwen2.5-VL-7B-Instruct", [s.url for s in servers], retry_wait=0.01, backoff=30)
    episodes = {}

    def make_agent(env, task):
        followers[task.goal] = PlanBackend(phones[env.serial].phone, PLANS[task.id])
        episodes[task.id] = backend.episode(task.id)
        return Agent(env, episodes[task.id], FAMILY, AgentConfig(max_steps=task.max_steps))

    def kill_when_busy():
        while len(servers[0].requests) < 12:
            time.sleep(0.01)
        servers[0].kill()

    killer = threading.Thread(target=kill_when_busy, daemon=True)
    killer.start()
    suite = load_suite("virtual-phone").select(
        ["wifi-off", "note-create", "message-send", "contact-favourite", "calculator-multiply", "alarm-enable",
         "bluetooth-on", "note-delete"]
    )  # fmt: skip
    pool = DevicePool(parse_pool({"adb": {"port": adb_server.port}, "devices": list(phones)}))
    try:
        run = run_pool_suite(suite, pool, make_agent, tmp_path, family=FAMILY)
    finally:
        backend.close()
        servers[1].kill()
    killer.join(1)
    assert servers[0].dead, (
        "the first server was killed mid-suite",
        len(servers[0].requests),
        len(servers[1].requests),
        [(r.task_id, r.status, r.reason) for r in run.results],
    )
    failed = {r.task_id: (r.status, r.reason) for r in run.results if not r.success}
    assert not failed, failed
    killed_at = servers[0].killed_at
    by_goal = {t.goal: t.id for t in suite.tasks}
    moved = 0
    for index, server in enumerate(servers):
        for body in server.requests:
            text = request_text(body)
            body["_task"] = by_goal[max((g for g in by_goal if g in text), key=len)]
            body["_server"] = index
    for task_id, episode in episodes.items():
        served = [
            b["_server"] for s in servers for b in sorted(s.requests, key=lambda b: b["_at"]) if b["_task"] == task_id
        ]
        served = [
            b["_server"]
            for b in sorted((b for s in servers for b in s.requests if b["_task"] == task_id), key=lambda b: b["_at"])
        ]
        switches = sum(a != b for a, b in zip(served, served[1:], strict=False))
        assert switches <= 1, (task_id, served)
        if switches:  # it moved once, from the killed server, and only after the kill
            moved += 1
            assert served[0] == 0 and served[-1] == 1, (task_id, served)
            first_on_b = next(b for s in servers for b in s.requests if b["_task"] == task_id and b["_server"] == 1)
            assert first_on_b["_at"] >= killed_at
        assert len(episode.urls) == 1 + switches
    assert moved >= 1, "episodes in flight on the killed server moved to the other one"
    events = json.dumps(backend.events)
    assert servers[1].url not in [e["url"] for e in backend.events], events

"""Device pools against real virtual phones on the real adb server: a phone dies, sleeps, or Ctrl-C comes.

The model is ``PlanBackend`` in-process (replies looked up on each phone's live screen): the model is not
what is tested here, the pool is: leases, health checks, quarantine, retries and the rows they leave.
"""

from __future__ import annotations

import _thread
import json
import threading
import time

from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.tasks.pool import DevicePool
from guiagent.tasks.pool_file import parse_pool
from guiagent.tasks.pool_runner import run_pool_suite
from guiagent.tasks.report import write_suite_report
from guiagent.tasks.suite import load_suite
from tests.scale.helpers import KillingPlan
from tests.tasks.test_suite_run import PLANS

FAMILY = "qwen2.5-vl-mobile"
TASKS = ["wifi-off", "bluetooth-on", "airplane-mode-on", "dark-mode-on", "note-create", "message-send",
         "contact-favourite", "calculator-multiply"]  # fmt: skip


def _pool(phones, adb_server, **extra):
    data = {"adb": {"port": adb_server.port}, "retry_window": 1.0, "devices": [p.serial for p in phones], **extra}
    return DevicePool(parse_pool(data))


def test_a_phone_killed_mid_task_is_quarantined_and_its_task_passes_on_another(
    virtual_phone_factory, adb_server, tmp_path
):
    phones = {p.serial: p for p in (virtual_phone_factory() for _ in range(4))}
    killed: list[str] = []

    def make_agent(env, task):
        connected = phones[env.serial]
        kill = None
        if task.id == "message-send" and not killed:  # its first attempt loses its phone at step 3
            killed.append(env.name)
            kill = connected.server.stop
        backend = KillingPlan(connected.phone, PLANS[task.id], kill, at=3)
        return Agent(env, backend, FAMILY, AgentConfig(max_steps=task.max_steps))

    suite = load_suite("virtual-phone").select(TASKS)
    run = run_pool_suite(suite, _pool(phones.values(), adb_server), make_agent, tmp_path, family=FAMILY)

    rows = {r.task_id: r for r in run.results}
    assert sorted(rows) == sorted(TASKS), "every task has a row"
    failed = {r.task_id: (r.status, r.reason) for r in run.results if not r.success}
    assert not failed, failed
    retried = rows["message-send"]
    assert retried.attempt == 2 and retried.device != killed[0]
    [first] = retried.retries
    assert first["device"] == killed[0] and first["quarantined"] and first["status"] == "error"
    assert "DeviceLost" in first["reason"] and first["run_dir"]
    assert all(r.attempt == 1 and not r.retries for r in run.results if r.task_id != "message-send")

    saved = json.loads((tmp_path / "results.json").read_text())
    devices = {d["name"]: d for d in saved["devices"]}
    assert devices[killed[0]]["state"] == "quarantined" and "failed mid-task" in devices[killed[0]]["reason"]
    assert sum(d["state"] == "healthy" for d in devices.values()) == 3
    assert {r["device"] for r in saved["results"]} >= set(devices) - {killed[0]}, "the other phones shared the work"
    report = write_suite_report(tmp_path / "results.json").read_text()
    assert "quarantined" in report and killed[0] in report and "attempt 2" in report


def test_a_sleeping_phone_fails_its_health_check_and_is_never_leased(virtual_phone_factory, adb_server, tmp_path):
    awake, asleep = virtual_phone_factory(), virtual_phone_factory()
    asleep.phone.screen_on = False
    phones = {p.serial: p for p in (awake, asleep)}

    def make_agent(env, task):
        return Agent(env, KillingPlan(phones[env.serial].phone, PLANS[task.id]), FAMILY, AgentConfig(max_steps=8))

    suite = load_suite("virtual-phone").select(["wifi-off", "bluetooth-on", "dark-mode-on"])
    run = run_pool_suite(suite, _pool([awake, asleep], adb_server), make_agent, tmp_path, family=FAMILY)
    assert all(r.success for r in run.results), [(r.task_id, r.reason) for r in run.results]
    assert {r.device for r in run.results} == {f"android:{awake.serial}"}
    sleeper = next(d for d in run.devices if d["name"] == f"android:{asleep.serial}")
    assert sleeper["state"] == "quarantined" and "is asleep (mWakefulness=Asleep)" in sleeper["reason"]
    awake_row = next(d for d in run.devices if d["name"] == f"android:{awake.serial}")
    assert awake_row["health_checks"] >= 3 and awake_row["screen"] == "1080x2400", "checked before every lease"


def test_ctrl_c_releases_every_lease_and_leaves_a_row_for_every_task(virtual_phone_factory, adb_server, tmp_path):
    phones = {p.serial: p for p in (virtual_phone_factory(), virtual_phone_factory())}
    started = threading.Event()

    def make_agent(env, task):
        started.set()
        backend = KillingPlan(phones[env.serial].phone, PLANS[task.id], latency=0.3)
        return Agent(env, backend, FAMILY, AgentConfig(max_steps=task.max_steps))

    def press_ctrl_c():
        started.wait(30)
        time.sleep(0.5)
        _thread.interrupt_main()

    suite = load_suite("virtual-phone").select(TASKS)
    pool = _pool(phones.values(), adb_server)
    threading.Thread(target=press_ctrl_c, daemon=True).start()
    began = time.monotonic()
    run = run_pool_suite(suite, pool, make_agent, tmp_path, family=FAMILY, grace=20)
    assert run.interrupted and time.monotonic() - began < 20
    assert sorted(r.task_id for r in run.results) == sorted(TASKS)
    statuses = {r.status for r in run.results}
    assert "interrupted" in statuses and statuses <= {"interrupted", "success"}, statuses
    assert all(s.env is None and s.state == "closed" for s in pool.slots), "every lease released, every device closed"
    assert not [t for t in threading.enumerate() if t.name.startswith("pool-worker") and t.is_alive()]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["finished_at"] and len(saved["results"]) == len(TASKS)


def test_a_device_whose_reset_fails_is_marked_dirty_and_not_leased_again(virtual_phone_factory, adb_server, tmp_path):
    connected = virtual_phone_factory()

    def make_agent(env, task):
        return Agent(env, KillingPlan(connected.phone, PLANS[task.id]), FAMILY, AgentConfig(max_steps=8))

    suite = load_suite("virtual-phone").select(["wifi-off", "bluetooth-on"])
    pool = _pool([connected], adb_server, reset=[{"clear_app": "com.no.such.app"}])
    run = run_pool_suite(suite, pool, make_agent, tmp_path, family=FAMILY)
    first, second = run.results
    assert first.success, first.reason
    assert second.status == "not_run" and "dirty: reset failed" in second.reason, second.reason
    [device] = run.devices
    assert device["state"] == "dirty" and "pm clear com.no.such.app` failed" in device["reason"], device

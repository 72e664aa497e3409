"""Suites on Ray, really: a multi-node cluster on this machine via Ray's own ``ray.cluster_utils.Cluster``.

A head (no devices) and two worker nodes, each advertising its own virtual phones as a custom resource
(``phones:a`` and ``phones:b``, two phones each). Every device is an actor Ray places on the node that
advertises it; its virtual phone starts inside that actor and joins the session's real adb server.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the Ray tests need guiagent[ray]")
from ray.cluster_utils import Cluster  # noqa: E402

from guiagent.tasks.pool_file import parse_pool  # noqa: E402
from guiagent.tasks.ray_suite import run_suite_on_ray  # noqa: E402
from guiagent.tasks.suite import load_suite  # noqa: E402
from tests.scale.helpers import open_apps_suite, start_killable_server, step_answer  # noqa: E402
from tests.scale.ray_recipe import PlanRecipe  # noqa: E402

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
TASKS = ["wifi-off", "bluetooth-on", "airplane-mode-on", "dark-mode-on", "note-create", "alarm-enable"]


@pytest.fixture(scope="module")
def cluster():
    """Head plus two worker nodes with two virtual phones each; the test process is the driver."""
    made = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes = {
        "a": made.add_node(num_cpus=1, resources={"phones:a": 2}),
        "b": made.add_node(num_cpus=1, resources={"phones:b": 2}),
    }
    made.wait_for_nodes()
    ray.init(
        address=made.address,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}},  # workers import tests.scale.ray_recipe
    )
    made.nodes_by_name = nodes
    try:
        yield made
    finally:
        ray.shutdown()
        made.shutdown()


def _pool(adb_server, *names: str):
    devices = [{"virtual": 2, "name": n, "resource": f"phones:{n}"} for n in names]
    return {"adb": {"port": adb_server.port}, "retry_window": 2.0, "concurrency": 4, "devices": devices}


def test_the_suite_fans_out_and_each_task_runs_on_the_node_that_has_its_device(cluster, adb_server, tmp_path):
    suite = load_suite("virtual-phone").select(TASKS)
    streamed = []
    run = run_suite_on_ray(suite, parse_pool(_pool(adb_server, "a", "b")), PlanRecipe(), tmp_path,
                           family="qwen2.5-vl-mobile", on_result=streamed.append)  # fmt: skip
    failed = {r.task_id: (r.status, r.reason) for r in run.results if not r.success}
    assert not failed, failed
    nodes = {name: node.node_id for name, node in cluster.nodes_by_name.items()}
    for row in run.results:
        assert row.node == nodes[row.device.split("-")[0]], (row.device, row.node)
    assert {r.node for r in run.results} == set(nodes.values()), "both worker nodes took tasks"
    assert [r.task_id for r in streamed] and len(streamed) == len(TASKS), "rows reached the driver one by one"

    saved = json.loads((tmp_path / "results.json").read_text())  # one merged file...
    assert sorted(r["task_id"] for r in saved["results"]) == sorted(TASKS) and saved["finished_at"]
    assert {d["name"]: d["state"] for d in saved["devices"]} == dict.fromkeys(["a-0", "a-1", "b-0", "b-1"], "healthy")
    for row in saved["results"]:  # ...with every trajectory shipped back from its worker
        assert (tmp_path / row["run_dir"] / "run.json").exists() and (
            tmp_path / row["run_dir"] / "steps.jsonl"
        ).exists()
    report = (tmp_path / "report.html").read_text()  # ...and one report
    assert "6/6 passed" in report and 'id="devices"' in report


def test_a_node_removed_mid_suite_loses_no_task_row(cluster, adb_server, tmp_path):
    extra = cluster.add_node(num_cpus=1, resources={"phones:c": 2})
    cluster.wait_for_nodes()
    suite = load_suite("virtual-phone").select(TASKS)
    started = threading.Event()

    def remove_when_busy():
        started.wait(120)
        cluster.remove_node(extra)

    remover = threading.Thread(target=remove_when_busy, daemon=True)
    remover.start()

    def on_result(row):
        started.set()  # c's phones are busy with their next tasks by now

    run = run_suite_on_ray(suite, parse_pool(_pool(adb_server, "a", "c")), PlanRecipe(latency=0.3), tmp_path,
                           family="qwen2.5-vl-mobile", on_result=on_result)  # fmt: skip
    remover.join(5)
    rows = {r.task_id: r for r in run.results}
    assert sorted(rows) == sorted(TASKS), "every task has a row"
    for row in run.results:
        assert row.success or row.status == "device_lost", (row.task_id, row.status, row.reason)
        for earlier in row.retries:
            assert earlier["device"].startswith("c-") and earlier["quarantined"]
    assert any(r.retries for r in run.results), "a task running on the removed node was retried"
    devices = {d["name"]: d for d in run.devices}
    assert all(devices[n]["state"] == "quarantined" for n in ("c-0", "c-1")), devices
    assert all(devices[n]["state"] == "healthy" for n in ("a-0", "a-1")), devices
    assert all(r.device.startswith("a-") for r in run.results if r.attempt == 2)


def test_resume_after_killing_the_driver_runs_only_the_rest(cluster, adb_server, tmp_path):
    """``guiagent eval --ray ADDRESS --pool``: killed (SIGKILL) after three rows, then ``--resume``."""
    suite = open_apps_suite(tmp_path, 8)
    pool = tmp_path / "pool.yaml"
    pool.write_text(json.dumps(_pool(adb_server, "a", "b")))  # JSON is YAML
    server = start_killable_server(step_answer, latency=0.3)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "guiagent.agent.cli", "eval", str(suite), "--ray", cluster.address, "--pool",
               str(pool), "--base-url", server.url, "--model", "Qwen/Qwen2.5-VL-7B-Instruct", "--out", str(out)]  # fmt: skip
    driver = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_finished(out)) < 3:
            time.sleep(0.05)
        driver.send_signal(signal.SIGKILL)  # no cleanup, no final save
        driver.wait(30)
        before = _finished(out)
        assert 3 <= len(before) < 8, before
        first_steps = len(server.requests)

        resumed = subprocess.run([*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=240)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert f"resumed: {len(before)} finished task(s)" in resumed.stderr
        started_again = {b["_goal"] for b in server.requests[first_steps:] if b["_step"] == 0}
        goals = {f"open-apps-{i}": f"Open Settings, then open Notes (task {i})" for i in range(8)}
        assert started_again == {goals[t] for t in set(goals) - set(before)}, "only the rest ran"
        after = json.loads((out / "results.json").read_text())
        rows = {r["task_id"]: r for r in after["results"]}
        assert sorted(rows) == sorted(goals) and all(r["success"] for r in rows.values())
        assert all(rows[t] == before[t] for t in before), "finished rows are kept as they were"
        assert after["resumed_at"] and after["finished_at"] and (out / "report.html").exists()
    finally:
        if driver.poll() is None:
            driver.kill()
        server.kill()


def _finished(out: Path) -> dict:
    try:
        data = json.loads((out / "results.json").read_text())
    except (OSError, ValueError):
        return {}
    return {r["task_id"]: r for r in data["results"] if r["status"] not in ("not_run", "interrupted", "device_lost")}

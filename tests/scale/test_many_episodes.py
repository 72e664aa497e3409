"""32 concurrent episodes in one process: 32 embedded virtual phones, one shared pool, nobody waiting on a lock.

Every episode's first model call waits at a barrier for all 32 (then each call takes 1 s, as a served model
might): the suite can only pass if 32 episodes really are in flight together in this one process.
"""

from __future__ import annotations

import threading

import pytest
import yaml

from guiagent.agent.loop import Agent
from guiagent.agent.settings import AgentConfig
from guiagent.tasks.demo import PlanBackend
from guiagent.tasks.pool import DevicePool
from guiagent.tasks.pool_file import parse_pool
from guiagent.tasks.pool_runner import run_pool_suite
from guiagent.tasks.suite import load_suite
from tests.tasks.test_suite_run import PLANS

N = 32


class MeetingPlan(PlanBackend):
    """The first model call of every episode waits until all N episodes have made theirs.

    ``threading.Barrier`` makes "N at once" a fact, not a timing: if anything serialised episodes (a global
    lock, one worker, a shared device), the barrier would never fill and would break after its timeout.
    """

    barrier = threading.Barrier(N, timeout=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.met = False

    def complete(self, request):
        if not self.met:
            self.met = True
            MeetingPlan.barrier.wait()
        return super().complete(request)


@pytest.mark.slow
def test_32_episodes_run_at_once_in_one_process(adb_server, tmp_path):
    wifi = yaml.safe_load(load_suite("virtual-phone").select(["wifi-off"]).tasks[0].source.read_text())
    suite_file = tmp_path / "many.yaml"
    suite_file.write_text(
        yaml.safe_dump({"name": "many", "tasks": [{**wifi, "id": f"wifi-off-{i}"} for i in range(N)]})
    )
    suite = load_suite(suite_file)
    pool = DevicePool(
        parse_pool({"adb": {"port": adb_server.port}, "devices": [{"virtual": N, "width": 540, "height": 1200}]})
    )

    def make_agent(env, task):
        backend = MeetingPlan(env.phone, PLANS["wifi-off"], latency=1.0)
        return Agent(env, backend, "qwen2.5-vl-mobile", AgentConfig(max_steps=task.max_steps))

    run = run_pool_suite(suite, pool, make_agent, tmp_path / "out", family="qwen2.5-vl-mobile")
    failed = {r.task_id: (r.status, r.reason) for r in run.results if not r.success}
    assert not failed, failed  # a broken barrier would show here as an error row
    assert len({r.device for r in run.results}) == N, "one phone per episode"
    assert not MeetingPlan.barrier.broken and MeetingPlan.barrier.n_waiting == 0

"""A device worker outside Ray (trajectories shipped or written to a shared folder), and the health rules."""

from __future__ import annotations

import io
import zipfile

import pytest

from guiagent.tasks.device_health import check_health
from guiagent.tasks.pool_file import parse_pool
from guiagent.tasks.ray_worker import DeviceWorker, unpack_run
from guiagent.tasks.suite import load_suite
from tests.scale.ray_recipe import PlanRecipe


def _spec(adb_server):
    return parse_pool({"adb": {"port": adb_server.port}, "devices": [{"virtual": 1}]}).devices[0]


def test_a_worker_ships_its_trajectory_or_writes_it_to_the_shared_folder(adb_server, tmp_path):
    pytest.importorskip("ray")
    task = load_suite("virtual-phone").select(["wifi-off"]).tasks[0]
    shipping = DeviceWorker(_spec(adb_server), PlanRecipe())
    try:
        answer = shipping.run(task)
    finally:
        shipping.close()
    assert answer["row"]["success"] and answer["device_failure"] is None and answer["dirty"] == ""
    assert answer["row"]["run_dir"].startswith("runs/") and answer["archive"]
    unpack_run(answer["archive"], tmp_path / "driver")
    assert (tmp_path / "driver" / answer["row"]["run_dir"] / "run.json").exists()

    shared = tmp_path / "shared"
    writing = DeviceWorker(_spec(adb_server), PlanRecipe(), trajectories=str(shared))
    try:
        answer = writing.run(task)
    finally:
        writing.close()
    assert answer["archive"] is None and answer["row"]["success"]
    assert answer["row"]["run_dir"].startswith(str(shared.resolve())) and (shared / "runs").is_dir()


def test_a_shipped_run_cannot_write_outside_the_results_folder(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../escaped.txt", "no")
    with pytest.raises(ValueError, match="outside the results folder"):
        unpack_run(buffer.getvalue(), tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


class _Answers:
    """An Android env whose read-only queries answer from a table (the health rules, not a device, are tested)."""

    kind = "android"
    name = "android:fake"

    def __init__(self, **answers: str) -> None:
        self.answers = {"wm size": "Physical size: 1080x2400", "dumpsys power": "mWakefulness=Awake",
                        "dumpsys window policy": "isKeyguardShowing=false", **answers}  # fmt: skip

    def query(self, argv):
        return self.answers[" ".join(argv)]


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ({}, ""),
        ({"dumpsys power": "mWakefulness=Dozing"}, "is asleep (mWakefulness=Dozing)"),
        ({"dumpsys window policy": "KeyguardServiceDelegate\n    mKeyguardShowing=true"}, "is locked"),
        ({"dumpsys window policy": "mShowingLockscreen=true mShowingDream=false"}, "is locked"),
        ({"wm size": "Physical size: 1080x2400\nOverride size: 8x8"}, "reports a screen of 8x8"),
        ({"wm size": "nothing"}, "reports no screen size"),
    ],
)
def test_health_rules(answers, reason):
    health = check_health(_Answers(**answers))
    assert health.ok == (not reason) and reason in health.reason


def test_a_desktop_in_a_pool_is_checked_and_leased(xvfb):
    from guiagent.tasks.pool import DevicePool

    pool = DevicePool(parse_pool({"devices": [{"desktop": 1, "name": "xvfb-desktop"}]}))
    try:
        assert pool.lease("android", timeout=1) is None, "a desktop pool serves no phone task"
        with pool.lease("desktop") as lease:
            assert lease.env.kind == "desktop" and lease.name == "xvfb-desktop"
        [row] = pool.summary()
        assert row["state"] == "healthy" and row["screen"] == "1920x1080" and row["health_checks"] == 1
    finally:
        pool.close()
    assert pool.slots[0].env is None and pool.slots[0].state == "closed"

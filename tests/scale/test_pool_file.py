"""Pool files: every device shape parses to a ``DeviceSpec``; mistakes name the file, line and entry."""

from __future__ import annotations

import pytest

from guiagent.tasks.pool_file import PoolFileError, load_pool, pool_from_devices
from guiagent.tasks.results_stream import parse_shard, select_shard

POOL = """\
concurrency: 3
adb: {host: 127.0.0.1, port: 5099}
retry_window: 2.5
endpoints: [http://gpu-1:8000/v1, http://gpu-2:8000/v1]
devices:
  - emulator-5554
  - android:R58M1
  - adb://farm-1.lan:5037/R58M123
  - {serial: R58M9, adb: "farm-2:6000"}
  - desktop: ":1"
  - desktop: 2
  - virtual: 2
  - {virtual: 2, name: rack-a, resource: "phones:rack-a", width: 720, height: 1600}
"""


def test_every_device_shape_parses(tmp_path):
    path = tmp_path / "pool.yaml"
    path.write_text(POOL)
    pool = load_pool(path)
    by_name = {d.name: d for d in pool.devices}
    assert list(by_name) == [
        "android:emulator-5554", "android:R58M1", "adb://farm-1.lan:5037/R58M123", "android:R58M9",
        "desktop:1@:1", "desktop:2", "virtual-0", "virtual-1", "rack-a-0", "rack-a-1",
    ]  # fmt: skip
    assert (by_name["android:emulator-5554"].adb_host, by_name["android:emulator-5554"].adb_port) == ("127.0.0.1", 5099)
    remote = by_name["adb://farm-1.lan:5037/R58M123"]
    assert (remote.kind, remote.serial, remote.adb_host, remote.adb_port) == ("android", "R58M123", "farm-1.lan", 5037)
    assert (by_name["android:R58M9"].adb_host, by_name["android:R58M9"].adb_port) == ("farm-2", 6000)
    assert (by_name["desktop:1@:1"].display, by_name["desktop:1@:1"].monitor) == (":1", 1)
    assert by_name["desktop:2"].display is None and by_name["desktop:2"].task_kind == "desktop"
    assert by_name["virtual-1"].kind == "virtual" and by_name["virtual-1"].task_kind == "android"
    assert by_name["rack-a-1"].phone_options == {"width": 720, "height": 1600}
    assert {by_name["rack-a-0"].resource, by_name["rack-a-1"].resource} == {"phones:rack-a"}
    assert by_name["adb://farm-1.lan:5037/R58M123"].resource == "device:farm-1.lan:5037_R58M123"
    assert pool.concurrency == 3 and pool.retry_window == 2.5 and pool.reset is None
    assert pool.endpoints == ("http://gpu-1:8000/v1", "http://gpu-2:8000/v1")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("devices: []\n", "'devices' must be a non-empty list", 1),
        ("devices:\n  - virtual: 0\n", "device 1: virtual: must be a number of phones >= 1", 2),
        ("devices:\n  - emulator-5554\n  - {desktop: x}\n", "device 2: desktop: takes an X display", 3),
        ("devices:\n  - {virtual: 1, colour: red}\n", "unknown key(s) colour", 2),
        ("devices:\n  - adb://farm/\n", "is not adb://HOST:PORT/SERIAL", 2),
        ("devices: [a, a]\n", "device names must be unique; repeated: android:a", 1),
        ("concurrency: 0\ndevices: [a]\n", "'concurrency' must be at least 1", 1),
        ("devise: [a]\n", "unknown key(s) devise", 1),
        ("reset:\n  - {action: {type: fly}}\ndevices: [a]\n", "'reset' steps", 2),
    ],
)
def test_mistakes_name_the_line_and_entry(tmp_path, text, message, line):
    path = tmp_path / "pool.yaml"
    path.write_text(text)
    with pytest.raises(PoolFileError) as caught:
        load_pool(path)
    assert message in str(caught.value) and caught.value.line == line, str(caught.value)
    assert str(path) in str(caught.value)


def test_device_flags_become_a_pool():
    pool = pool_from_devices(["virtual", "virtual", "android:SER1", "desktop:1", "android"], adb_port=5100)
    assert [d.name for d in pool.devices] == ["virtual-0", "virtual-1", "android:SER1", "desktop:1", "android"]
    assert pool.concurrency == 5 and pool.devices[2].adb_port == 5100
    assert pool.devices[4].serial is None, "a bare android is the only phone on the adb server"


def test_shards_are_disjoint_and_cover_the_suite():
    tasks = list(range(10))
    shards = [select_shard(tasks, parse_shard(f"{i}/3")) for i in (1, 2, 3)]  # type: ignore[arg-type]
    assert sorted(x for s in shards for x in s) == tasks
    assert shards[0] == (0, 3, 6, 9)
    for bad in ("0/3", "4/3", "a/b", "3"):
        with pytest.raises(Exception, match="--shard"):
            parse_shard(bad)

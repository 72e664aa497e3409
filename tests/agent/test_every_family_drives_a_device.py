"""Every registered family, end to end through ``guiagent run``: a real HTTP server answers in the family's
own reply format, the CLI parses and maps it, and the device shows the effect.

Mobile families tap the Settings icon on the virtual phone (through the real adb server); computer
families click a Tk button on Xvfb. The server writes each reply at request time from the target's device
pixel, through the family's own ``format_action`` and coordinate space, so a family whose prompt size,
divisor or mapping disagreed with its parser would tap somewhere else. New families are picked up here
without any per-family code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.families import FAMILIES, ModelFamily, get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Action, Click, Terminate
from guiagent.agent.cli import main
from guiagent.agent.trajectory import Trajectory
from tests.fixtures.openai_server import data_url_size

MOBILE = sorted(name for name, cls in FAMILIES.items() if cls.default_platform == "mobile")
COMPUTER = sorted(name for name, cls in FAMILIES.items() if cls.default_platform == "computer")


def _reply(family: ModelFamily, screen: Size, action: Action) -> str:
    model_action = family.mapping(screen).to_model(action) if action.space == "device" else action
    return family.format_action(model_action)


def _end(family: ModelFamily) -> str:
    return family.format_action(Terminate(status="success"))


def _sent_images(body: dict[str, Any]) -> list[tuple[int, int]]:
    return [
        data_url_size(part["image_url"]["url"])
        for message in body["messages"]
        for part in (message["content"] if isinstance(message["content"], list) else [])
        if part.get("type") == "image_url"
    ]


@pytest.mark.parametrize("name", MOBILE)
def test_mobile_family_taps_settings_on_the_virtual_phone(
    name: str, virtual_phone, adb_server, scripted_server, tmp_path: Path
) -> None:
    phone = virtual_phone.phone
    family = get_family(name)
    screen = Size(1080, 2400)
    icon = phone.find(text="Settings")
    assert icon is not None
    x, y = icon.bounds.center
    scripted_server.script = [_reply(family, screen, Click(x=x, y=y)), _end(family)]
    argv = ["run", "Open the Settings app", "--device", f"android:{virtual_phone.serial}"]
    argv += ["--adb-port", str(adb_server.port), "--base-url", scripted_server.url, "--model", "scripted"]
    argv += ["--family", name, "--max-steps", "4", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert phone.current_package == "com.android.settings"
    (folder,) = tmp_path.iterdir()
    steps = Trajectory.load(folder).steps
    tap = steps[0].actions_device[0]
    assert tap["type"] == "click" and abs(tap["x"] - x) <= 1 and abs(tap["y"] - y) <= 1
    current = family.current_image(screen)
    assert _sent_images(scripted_server.requests[0])[-1 if family.default_history_images else 0] == (
        current.width,
        current.height,
    )


@pytest.mark.parametrize("name", COMPUTER)
def test_computer_family_clicks_the_button_on_xvfb(name: str, tk_recorder, scripted_server, tmp_path: Path) -> None:
    family = get_family(name)
    screen = Size(1920, 1080)
    x, y = tk_recorder.center("ok")
    scripted_server.script = [_reply(family, screen, Click(x=x, y=y)), _end(family)]
    out = tmp_path / "runs"
    argv = ["run", "Press OK", "--device", "desktop", "--base-url", scripted_server.url, "--model", "scripted"]
    argv += ["--family", name, "--max-steps", "4", "--out", str(out)]
    assert main(argv) == 0
    pressed = tk_recorder.wait_for(lambda e: e["type"] == "button")
    assert pressed["name"] == "ok"
    (folder,) = out.iterdir()
    tap = Trajectory.load(folder).steps[0].actions_device[0]
    assert tap["type"] == "click" and abs(tap["x"] - x) <= 1 and abs(tap["y"] - y) <= 1

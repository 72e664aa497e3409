"""A server that resizes the screenshots again is caught from the prompt tokens it reports.

The server side here is real preprocessing: the tiny Qwen2.5-VL checkpoint's own ``AutoProcessor`` (what
vLLM runs) counts the prompt, once with limits equal to the family's and once with a lower ``max_pixels``,
as a server started without ``--mm-processor-kwargs`` would have.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import Terminate
from guiagent.agent.backends.local import to_hf_messages
from guiagent.agent.server_checks import check_image_tokens

PHONE = Size(1080, 2400)
LOW = 1280 * 28 * 28


def _processor(folder: Path, max_pixels: int) -> Any:
    import transformers

    from guiagent.agent.backends.local_loading import set_pixel_limits

    processor = transformers.AutoProcessor.from_pretrained(folder)
    set_pixel_limits(processor.image_processor, 4 * 28 * 28, max_pixels)
    return processor


def _count(processor: Any, messages: Any, images: list[Image.Image]) -> int:
    prompt = processor.apply_chat_template(to_hf_messages(messages), tokenize=False, add_generation_prompt=True)
    return int(processor(text=[prompt], images=images, return_tensors="pt")["input_ids"].shape[1])


@pytest.mark.parametrize("family_name", ["qwen2.5-vl-mobile", "qwen2-vl", "ui-tars-1.5"])
def test_a_second_resize_is_seen_and_none_is_not(tiny_qwen25_vl: Path, family_name: str) -> None:
    family = get_family(family_name)
    messages = family.render("Open the Settings app and turn on Wi-Fi", PHONE)
    slot = family.current_image(PHONE)
    image = Image.new("RGB", (slot.width, slot.height), "white")

    same = _count(_processor(tiny_qwen25_vl, family.pixel_limits[1]), messages, [image])
    honest = check_image_tokens(messages, family.factor, same)
    assert not honest.resized and honest.seen == honest.sent == (slot.width // 28) * (slot.height // 28) + 2

    lower = _count(_processor(tiny_qwen25_vl, LOW), messages, [image])
    assert lower < same  # the processor really did resize: 1092x2408 → 672x1484 under 1280·28²
    caught = check_image_tokens(messages, family.factor, lower)
    assert caught.resized and caught.sent == honest.sent
    assert abs(caught.seen - (24 * 53 + 2)) < 0.35 * caught.sent  # near the 1274 tokens the server used
    message = caught.explain(pixel_family=family.space_kind == "pixels")
    assert "--mm-processor-kwargs" in message and "--max-pixels" in message
    assert ("off target" in message) is (family.space_kind == "pixels")


def _server_counting_with(processor: Any, family_name: str) -> Any:
    """``count_prompt_tokens`` for the scripted server: the real processor over the request as sent."""
    import base64
    import io

    def count(body: dict[str, Any]) -> int:
        family = get_family(family_name)
        images: list[Image.Image] = []
        hf_messages = []
        for message in body["messages"]:
            content = message["content"]
            parts = [{"type": "text", "text": content}] if isinstance(content, str) else []
            for part in content if isinstance(content, list) else []:
                if part["type"] == "image_url":
                    payload = part["image_url"]["url"].split(",", 1)[1]
                    images.append(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))
                    parts.append({"type": "image"})
                else:
                    parts.append({"type": "text", "text": part["text"]})
            hf_messages.append({"role": message["role"], "content": parts})
        assert family.factor == 28
        prompt = processor.apply_chat_template(hf_messages, tokenize=False, add_generation_prompt=True)
        return int(processor(text=[prompt], images=images or None, return_tensors="pt")["input_ids"].shape[1])

    return count


def test_guiagent_run_stops_when_a_pixel_family_server_resizes(
    tiny_qwen25_vl: Path, virtual_phone, adb_server, scripted_server, tmp_path: Path, capsys
) -> None:
    from guiagent.agent.cli import main
    from guiagent.agent.trajectory import Trajectory

    family = get_family("qwen2.5-vl-mobile")
    scripted_server.count_prompt_tokens = _server_counting_with(_processor(tiny_qwen25_vl, LOW), family.name)
    scripted_server.script = [family.format_action(family.mapping(PHONE).to_model(_home_tap()))] * 3
    argv = ["run", "Open Settings", "--device", f"android:{virtual_phone.serial}", "--adb-port", str(adb_server.port)]
    argv += ["--base-url", scripted_server.url, "--model", "Qwen/Qwen2.5-VL-7B-Instruct", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "ServerResizedImages" in err and "--mm-processor-kwargs" in err
    (folder,) = tmp_path.iterdir()
    loaded = Trajectory.load(folder)
    assert loaded.run.status == "error" and "resized the screenshots again" in loaded.run.reason
    assert loaded.steps[0].executed == 0  # nothing was tapped on a resized image's coordinates


def test_a_relative_family_is_warned_once_and_goes_on(
    tiny_qwen25_vl: Path, virtual_phone, adb_server, scripted_server, tmp_path: Path
) -> None:
    from guiagent.agent.cli import main
    from guiagent.agent.trajectory import Trajectory

    family = get_family("qwen2-vl")
    tap = family.format_action(family.mapping(PHONE).to_model(_home_tap()))
    scripted_server.count_prompt_tokens = _server_counting_with(_processor(tiny_qwen25_vl, LOW), family.name)
    scripted_server.script = [tap, family.format_action(Terminate())]
    argv = ["run", "Open Settings", "--device", f"android:{virtual_phone.serial}", "--adb-port", str(adb_server.port)]
    argv += ["--base-url", scripted_server.url, "--model", "scripted", "--family", "qwen2-vl", "--out", str(tmp_path)]
    assert main(argv) == 0
    (folder,) = tmp_path.iterdir()
    steps = Trajectory.load(folder).steps
    warnings = [note for step in steps for note in step.notes if note.startswith("warning:")]
    assert len(warnings) == 1 and "resized the screenshots again" in warnings[0]
    assert virtual_phone.phone.current_package == "com.android.settings"


def _home_tap() -> Any:
    from guiagent.actions.types import Click
    from guiagent.envs.virtual_phone import VirtualPhone

    icon = VirtualPhone().find(text="Settings")
    assert icon is not None
    return Click(x=icon.bounds.center[0], y=icon.bounds.center[1])

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

"""The local backend on a tiny random Qwen3-VL: loads by model type, images stay at their factor-32 slot size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from guiagent.actions.errors import ModelRequestError
from guiagent.actions.geometry import Size, plan_image
from guiagent.actions.messages import CURRENT_IMAGE, ImageSlot, Message, TextPart
from guiagent.agent.backends.base import ModelRequest
from guiagent.agent.backends.local import TransformersBackend
from tests.fixtures.tiny_qwen3_vl import QWEN3_MAX_PIXELS, QWEN3_MIN_PIXELS

PHONE = Size(1080, 2400)
BUDGET = 256 * 32 * 32


def _request(width: int, height: int) -> ModelRequest:
    slot = ImageSlot(CURRENT_IMAGE, width, height)
    messages = (Message("user", (TextPart("Open the Settings app"), slot)),)
    return ModelRequest(messages, {CURRENT_IMAGE: Image.new("RGB", (width, height), "white")}, max_new_tokens=6)


@pytest.mark.parametrize("image_factor", [32, None])
def test_qwen3_vl_keeps_the_factor_32_slot(tiny_qwen3_vl: Path, image_factor: int | None) -> None:
    plan = plan_image(PHONE, 32, QWEN3_MIN_PIXELS, BUDGET)
    assert (plan.model.width, plan.model.height) == (320, 736)  # 1080x2400 under 256·32²: beta = 3.144
    backend = TransformersBackend(
        str(tiny_qwen3_vl), min_pixels=QWEN3_MIN_PIXELS, max_pixels=BUDGET, image_factor=image_factor
    )
    try:
        reply = backend.complete(_request(plan.model.width, plan.model.height))
        loaded = backend.loaded
        assert loaded is not None and type(loaded.model).__name__ == "Qwen3VLForConditionalGeneration"
        assert type(loaded.processor).__name__ == "Qwen3VLProcessor"
        # 320x736 → a 20x46 grid of 16-px patches, merged 2x2 into 230 image tokens: no second resize.
        assert reply.prompt_tokens is not None and reply.prompt_tokens > 230
        assert reply.completion_tokens is not None and 0 < reply.completion_tokens <= 6
    finally:
        backend.close()


def test_grid_matches_slot_over_sixteen(tiny_qwen3_vl: Path) -> None:
    backend = TransformersBackend(str(tiny_qwen3_vl), min_pixels=QWEN3_MIN_PIXELS, max_pixels=QWEN3_MAX_PIXELS).load()
    try:
        loaded = backend.loaded
        assert loaded is not None
        request = _request(672, 1472)
        inputs = backend._prepare(loaded, request, [image for _, image in request.ordered_images()])
        assert inputs["image_grid_thw"].tolist() == [[1, 1472 // 16, 672 // 16]]
    finally:
        backend.close()


def test_a_factor_28_image_is_refused_before_generating(tiny_qwen3_vl: Path) -> None:
    """A Qwen2.5-VL family's 28-px slot on a Qwen3-VL model: the wrong family, said plainly."""
    backend = TransformersBackend(str(tiny_qwen3_vl), min_pixels=QWEN3_MIN_PIXELS, max_pixels=QWEN3_MAX_PIXELS)
    try:
        with pytest.raises(ModelRequestError, match="not a multiple of 32 px"):
            backend.complete(_request(308, 672))
    finally:
        backend.close()


def test_tiny_qwen3_vl_runs_the_loop_on_the_virtual_phone(virtual_phone, adb_server, tiny_qwen3_vl, tmp_path) -> None:
    """A random model says random things: each is recorded as a parse error, sent back, and the run ends."""
    from guiagent.actions.families import get_family
    from guiagent.agent.loop import Agent
    from guiagent.agent.settings import AgentConfig
    from guiagent.agent.trajectory import Trajectory
    from guiagent.envs.android import AndroidEnv

    family = get_family("qwen3-vl-mobile", max_pixels=BUDGET)
    assert family.factor == 32
    low, high = family.pixel_limits
    backend = TransformersBackend(str(tiny_qwen3_vl), min_pixels=low, max_pixels=high, image_factor=family.factor)
    config = AgentConfig(max_steps=5, max_invalid_replies=2, max_new_tokens=12, out_dir=tmp_path)
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env:
        trajectory = Agent(env, backend, family, config).run("Open the Settings app")
    backend.close()

    assert trajectory.status == "failure" and "not valid actions" in trajectory.run.reason
    steps = Trajectory.load(trajectory.folder).steps
    assert len(steps) == 2
    slot = family.current_image(PHONE)
    for step in steps:
        assert step.reply is not None and step.error is not None
        assert step.error.type in ("ActionParseError", "CoordinateError") and step.error.sent_to_model
        assert step.completion_tokens and step.prompt_tokens and step.timings["model"] > 0
        assert step.model_image == {"width": slot.width, "height": slot.height, "padded": False}
        assert slot.width % 32 == 0 and slot.height % 32 == 0

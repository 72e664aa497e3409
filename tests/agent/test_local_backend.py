"""The transformers backend against real (tiny, random or scripted) Qwen2-VL and Qwen2.5-VL models, on the CPU.

The models come from ``tests.fixtures.tiny_models``: complete model folders built offline, loaded the way a
downloaded checkpoint is. Nothing here reaches the network (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

from guiagent.actions.errors import ConfigError, ModelError, ModelRequestError, ModelUnavailable
from guiagent.actions.families import get_family
from guiagent.actions.geometry import ImagePlan, Size, plan_image, tokens_for_image
from guiagent.actions.messages import ImageSlot, Message, TextPart, render_chatml
from guiagent.agent.backends import local, local_loading
from guiagent.agent.backends.base import ModelRequest
from guiagent.agent.backends.local import TransformersBackend, to_hf_messages
from guiagent.agent.backends.local_loading import pixel_limits_of, set_pixel_limits
from tests.fixtures.tiny_models import GROUNDING_REPLY, build_tiny_qwen25_vl

pytest.importorskip("torch")
pytest.importorskip("transformers")

SMALL = 256 * 28 * 28
"""A phone-sized budget that keeps the tests fast: 1080x2400 becomes 280x644 (230 vision tokens)."""
PHONE = Size(1080, 2400)


def screenshot(size: Size = PHONE) -> Image.Image:
    """A phone-like screenshot: a status bar, a few buttons, some text."""
    image = Image.new("RGB", (size.width, size.height), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size.width, 80), fill=(30, 30, 30))
    for i in range(6):
        top = 200 + i * 300
        draw.rectangle((60, top, size.width - 60, top + 200), fill=(40 * i, 120, 200), outline=(0, 0, 0))
        draw.text((100, top + 80), f"Button {i}", fill=(255, 255, 255))
    return image


@functools.lru_cache(maxsize=4)
def resized(plan: ImagePlan) -> Image.Image:
    """The screenshot at the size the model sees, resized once, as the agent does (cached: never mutated)."""
    return screenshot(plan.screen).resize((plan.model.width, plan.model.height), Image.Resampling.BICUBIC)


def request_for(plan: ImagePlan, **options: object) -> ModelRequest:
    slot = ImageSlot("current", plan.model.width, plan.model.height)
    messages = [
        Message.text("system", "You are a GUI agent operating an Android phone."),
        Message("user", (TextPart("Open the Settings app."), slot)),
    ]
    return ModelRequest(messages, {"current": resized(plan)}, **options)  # type: ignore[arg-type]


@pytest.fixture(params=["tiny_qwen2_vl", "tiny_qwen25_vl"])
def tiny_model(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def small_plan() -> ImagePlan:
    return plan_image(PHONE, max_pixels=SMALL)


def test_importing_the_backend_imports_neither_torch_nor_transformers() -> None:
    code = "import sys, guiagent.agent.backends.local; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_complete_on_a_tiny_model(tiny_model: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_model), max_pixels=SMALL, local_files_only=True)
    try:
        reply = backend.complete(request_for(small_plan, max_new_tokens=12))
        loaded = backend.loaded
        assert loaded is not None
        expected_class = "Qwen2VL" if "qwen2-vl" in tiny_model.name else "Qwen2_5_VL"
        assert type(loaded.model).__name__ == f"{expected_class}ForConditionalGeneration"
        assert (loaded.device, loaded.dtype, loaded.attn_implementation) == ("cpu", "float32", "sdpa")
        assert isinstance(reply.text, str)
        image_tokens = tokens_for_image(small_plan.model.width, small_plan.model.height)
        assert reply.prompt_tokens is not None and reply.prompt_tokens > image_tokens
        assert reply.completion_tokens is not None and 0 < reply.completion_tokens <= 12
        assert 0 < reply.prepare_seconds < reply.seconds < 5
        assert reply.model == str(tiny_model)
    finally:
        backend.close()


def test_greedy_replies_repeat(tiny_qwen25_vl: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_qwen25_vl), max_pixels=SMALL)
    first, second = (backend.complete(request_for(small_plan, max_new_tokens=8)) for _ in range(2))
    assert first.text == second.text and first.prompt_tokens == second.prompt_tokens
    backend.close()


def test_a_family_step_from_prompt_to_device_click(tiny_qwen2_vl_grounding: Path) -> None:
    family = get_family("qwen2-vl", max_pixels=SMALL)
    low, high = family.pixel_limits
    backend = TransformersBackend(str(tiny_qwen2_vl_grounding), min_pixels=low, max_pixels=high)
    plan = family.image_plan(PHONE)
    messages = family.render("Tap OK", PHONE)
    request = ModelRequest(messages, {"current": resized(plan)}, keep_special_tokens=family.needs_special_tokens)
    reply = backend.complete(request)
    _, actions = family.parse_to_device(reply.text, PHONE)
    assert [(a.type, a.x, a.y) for a in actions] == [("click", 133, 1094)]  # (123, 456)/1000 of 1080x2400
    backend.close()


def test_out_of_memory_is_unavailable_with_a_hint(
    tiny_qwen2_vl: Path, small_plan: ImagePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    backend = TransformersBackend(str(tiny_qwen2_vl), max_pixels=SMALL).load()
    model = backend.loaded.model  # type: ignore[union-attr]

    def out_of_memory(**_: object) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(model, "generate", out_of_memory)
    with pytest.raises(ModelUnavailable, match="lower max_pixels"):
        backend.complete(request_for(small_plan))
    monkeypatch.setattr(model, "generate", lambda **_: 1 / 0)
    with pytest.raises(ModelError, match="generation failed: ZeroDivisionError"):
        backend.complete(request_for(small_plan))
    backend.close()


def test_the_prompt_is_the_stock_chat_template(tiny_qwen25_vl: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_qwen25_vl), max_pixels=SMALL).load()
    request = request_for(small_plan)
    processor = backend.loaded.processor  # type: ignore[union-attr]
    for messages in (request.messages, request.messages[1:]):  # with and without a system turn
        prompt = processor.apply_chat_template(to_hf_messages(messages), tokenize=False, add_generation_prompt=True)
        assert prompt == render_chatml(messages)
    backend.close()


@pytest.mark.parametrize("max_pixels", [SMALL, None], ids=["280x644", "1092x2408"])
def test_the_processor_keeps_the_family_size(tiny_qwen2_vl: Path, max_pixels: int | None) -> None:
    plan = plan_image(PHONE) if max_pixels is None else plan_image(PHONE, max_pixels=max_pixels)
    backend = TransformersBackend(str(tiny_qwen2_vl), max_pixels=max_pixels).load()
    processor = backend.loaded.processor  # type: ignore[union-attr]
    assert pixel_limits_of(processor.image_processor) == backend.pixel_limits
    prompt = render_chatml(request_for(plan).messages)
    inputs = processor(text=[prompt], images=[resized(plan)], return_tensors="pt")
    width, height = plan.model.width, plan.model.height
    assert inputs["image_grid_thw"].tolist() == [[1, height // 14, width // 14]]
    assert int((inputs["input_ids"] == processor.image_token_id).sum()) == (width // 28) * (height // 28)
    backend.close()


def test_the_processor_follows_the_backend_limits_not_the_checkpoint(
    tiny_qwen2_vl: Path, small_plan: ImagePlan
) -> None:
    # The checkpoint allows up to 16384·28²; a 280x644 image passes it untouched. Held to 64·28² by the
    # backend, the processor must shrink it: proof the limits reached the processor.
    backend = TransformersBackend(str(tiny_qwen2_vl), max_pixels=64 * 28 * 28).load()
    processor = backend.loaded.processor  # type: ignore[union-attr]
    inputs = processor(
        text=[render_chatml(request_for(small_plan).messages)], images=[resized(small_plan)], return_tensors="pt"
    )
    _, grid_h, grid_w = inputs["image_grid_thw"].tolist()[0]
    assert grid_h * grid_w * 14 * 14 <= 64 * 28 * 28
    # ... and such a request is refused before the processor runs, naming the fix.
    with pytest.raises(ConfigError, match="family's limits"):
        backend.complete(request_for(small_plan))
    backend.close()


def test_a_resize_the_processor_does_anyway_is_caught(tiny_qwen2_vl: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_qwen2_vl), max_pixels=SMALL).load()
    set_pixel_limits(backend.loaded.processor.image_processor, 4 * 28 * 28, 64 * 28 * 28)  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="resized image 'current' from 280x644"):
        backend.complete(request_for(small_plan))
    backend.close()


def test_keep_special_tokens(tiny_qwen2_vl_grounding: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_qwen2_vl_grounding), max_pixels=SMALL)
    kept = backend.complete(request_for(small_plan, keep_special_tokens=True))
    stripped = backend.complete(request_for(small_plan))
    assert kept.text == GROUNDING_REPLY  # the stop token <|im_end|> is not part of the reply
    assert stripped.text == "OK(123,456)"  # what vLLM's default skip_special_tokens=True returns
    assert kept.completion_tokens == stripped.completion_tokens == 15 + 1  # 15 reply tokens and <|im_end|>
    backend.close()


def test_tool_call_tags_survive_skipping_special_tokens(tmp_path: Path, small_plan: ImagePlan) -> None:
    # In Qwen2.5-VL's vocabulary <tool_call> is an added token but not a special one.
    folder = build_tiny_qwen25_vl(tmp_path / "tool-call", reply="<tool_call>OK</tool_call>")
    backend = TransformersBackend(str(folder), max_pixels=SMALL)
    assert backend.complete(request_for(small_plan)).text == "<tool_call>OK</tool_call>"
    backend.close()


def test_scripted_replies_must_not_repeat_tokens(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeats '1'"):
        build_tiny_qwen25_vl(tmp_path / "bad", reply="(1,1)")


@pytest.mark.parametrize(
    ("image_size", "slot_size", "error", "match"),
    [
        ((280, 640), (280, 644), ModelRequestError, "the slot needs 280x644"),
        ((1080, 2400), (1080, 2400), ModelRequestError, "not a multiple of 28"),
        ((1092, 2408), (1092, 2408), ConfigError, "would resize to 672x1484"),
    ],
    ids=["image-not-at-slot-size", "slot-not-a-multiple-of-28", "slot-beyond-the-pixel-limits"],
)
def test_bad_images_are_refused_before_anything_loads(
    image_size: tuple[int, int], slot_size: tuple[int, int], error: type[Exception], match: str
) -> None:
    # With the family's factor given (as the CLI does), nothing needs the checkpoint to judge the slots.
    backend = TransformersBackend("/no/such/model", max_pixels=1280 * 28 * 28, image_factor=28)
    slot = ImageSlot("current", *slot_size)
    request = ModelRequest([Message("user", (TextPart("hi"), slot))], {"current": Image.new("RGB", image_size)})
    with pytest.raises(error, match=match):
        backend.complete(request)
    assert backend.loaded is None


def test_a_missing_image_is_a_request_error() -> None:
    backend = TransformersBackend("/no/such/model")
    request = ModelRequest([Message("user", (ImageSlot("step-1", 280, 644),))])
    with pytest.raises(ModelRequestError, match="no image was given for slot 'step-1'"):
        backend.complete(request)


def test_a_missing_model_folder_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no model folder at '/no/such/model'") as caught:
        TransformersBackend("/no/such/model").load()
    assert "huggingface-cli download" in str(caught.value)
    with pytest.raises(ConfigError, match="has no config.json"):
        TransformersBackend(str(tmp_path)).load()


def test_an_unreachable_hub_id_says_how_to_work_offline(hf_offline: None) -> None:
    with pytest.raises(ConfigError, match="guiagent-tests/no-such-model") as caught:
        TransformersBackend("guiagent-tests/no-such-model", local_files_only=True).load()
    message = str(caught.value)
    assert "huggingface-cli download guiagent-tests/no-such-model" in message and "HF_HUB_OFFLINE=1" in message


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # what `import torch` meets when torch is not installed
    with pytest.raises(ConfigError, match=r"pip install 'guiagent\[local\]'"):
        TransformersBackend("Qwen/Qwen2.5-VL-7B-Instruct").load()


def test_bad_options_fail_at_construction() -> None:
    with pytest.raises(ConfigError, match="unknown dtype 'int8'"):
        TransformersBackend("x", dtype="int8")
    with pytest.raises(ConfigError, match="min_pixels <= max_pixels"):
        TransformersBackend("x", min_pixels=1000, max_pixels=10)


def test_an_explicit_dtype_wins(tiny_qwen25_vl: Path, small_plan: ImagePlan) -> None:
    import torch

    backend = TransformersBackend(str(tiny_qwen25_vl), max_pixels=SMALL, dtype="bf16", attn_implementation="eager")
    reply = backend.complete(request_for(small_plan, max_new_tokens=4))
    loaded = backend.loaded
    assert loaded is not None and (loaded.dtype, loaded.attn_implementation) == ("bfloat16", "eager")
    assert next(loaded.model.parameters()).dtype == torch.bfloat16
    assert reply.completion_tokens
    backend.close()


def test_two_threads_share_one_model(
    tiny_qwen2_vl_grounding: Path, small_plan: ImagePlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []

    def counting_load(options: local_loading.LoadOptions) -> local_loading.LoadedModel:
        loads.append(options.model)
        return local_loading.load_model(options)

    monkeypatch.setattr(local, "load_model", counting_load)
    backend = TransformersBackend(str(tiny_qwen2_vl_grounding), max_pixels=SMALL)
    start = threading.Barrier(2)
    replies: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            replies.append(backend.complete(request_for(small_plan)).text)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert replies == ["OK(123,456)", "OK(123,456)"]
    assert len(loads) == 1
    backend.close()


def test_close_is_safe_twice_and_final(tiny_qwen2_vl: Path, small_plan: ImagePlan) -> None:
    backend = TransformersBackend(str(tiny_qwen2_vl), max_pixels=SMALL).load()
    backend.close()
    backend.close()
    assert backend.loaded is None
    with pytest.raises(ModelUnavailable, match="closed"):
        backend.complete(request_for(small_plan))
    TransformersBackend("never-loaded").close()


def test_pixel_limits_reach_both_processor_config_styles() -> None:
    # transformers 4.x keeps min_pixels/max_pixels attributes beside size; some releases keyed size by them.
    old = SimpleNamespace(size={"min_pixels": 3136, "max_pixels": 12845056}, min_pixels=3136, max_pixels=12845056)
    set_pixel_limits(old, 100, 200)
    assert (old.min_pixels, old.max_pixels) == (100, 200)
    assert old.size == {"min_pixels": 100, "max_pixels": 200, "shortest_edge": 100, "longest_edge": 200}
    assert pixel_limits_of(old) == (100, 200)
    new = SimpleNamespace(size={"shortest_edge": 3136, "longest_edge": 12845056})
    set_pixel_limits(new, 100, 200)
    assert new.size == {"shortest_edge": 100, "longest_edge": 200} and not hasattr(new, "min_pixels")

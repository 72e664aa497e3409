"""smart_resize equals qwen-vl-utils'; coordinate spaces map to device pixels and refuse what is outside."""

from __future__ import annotations

import random

import pytest

from guiagent.actions.errors import CoordinateError, ImageSizeError
from guiagent.actions.geometry import CoordinateSpace, ScreenMapping, Size, plan_image, smart_resize, tokens_for_image
from guiagent.actions.types import Click, Swipe

LIMITS = [
    (4 * 28 * 28, 16384 * 28 * 28),  # qwen-vl-utils defaults
    (3136, 1280 * 28 * 28),  # a common agent budget
    (100 * 28 * 28, 16384 * 28 * 28),  # UI-TARS
    (256 * 28 * 28, 1344 * 28 * 28),  # ShowUI
    (3136, 2_000_000),  # not a multiple of 28²
]


@pytest.mark.parametrize(
    "width, height, limits, expected",
    [
        (1080, 2400, LIMITS[0], (1092, 2408)),
        (1080, 2400, LIMITS[1], (672, 1484)),
        (1920, 1080, LIMITS[0], (1932, 1092)),
    ],
)
def test_documented_examples(width: int, height: int, limits: tuple[int, int], expected: tuple[int, int]) -> None:
    h, w = smart_resize(height, width, 28, *limits)
    assert (w, h) == expected


def _sizes(count: int) -> list[tuple[int, int]]:
    rng = random.Random(20261122)
    sizes = [(1, 1), (27, 27), (28, 28), (14, 14), (15, 15), (42, 42), (1, 200), (200, 1), (3, 600)]
    sizes += [(1080, 2400), (1440, 3200), (720, 1280), (2560, 1600), (3840, 2160), (5120, 1440), (7680, 4320)]
    while len(sizes) < count:
        kind = rng.random()
        if kind < 0.4:
            w, h = rng.randint(1, 8000), rng.randint(1, 8000)
        elif kind < 0.8:
            w = rng.randint(200, 4000)
            h = int(w * rng.uniform(0.3, 3.0))
        else:
            w = rng.randint(1, 60)
            h = rng.randint(1, 12000)
        sizes.append((max(1, w), max(1, h)))
    return sizes


def test_equals_qwen_vl_utils_on_thousands_of_sizes() -> None:
    qwen = pytest.importorskip("qwen_vl_utils")
    compared = 0
    for width, height in _sizes(1200):
        for low, high in LIMITS:
            try:
                theirs = qwen.smart_resize(height, width, factor=28, min_pixels=low, max_pixels=high)
            except ValueError:
                with pytest.raises(ImageSizeError):
                    smart_resize(height, width, 28, low, high)
                continue
            if 0 in theirs:  # qwen-vl-utils floors a side to 0 for extreme shapes; we refuse those
                with pytest.raises(ImageSizeError, match="shrink to 0"):
                    smart_resize(height, width, 28, low, high)
                continue
            assert smart_resize(height, width, 28, low, high) == theirs, (width, height, low, high)
            compared += 1
    assert compared >= 5000


QWEN3_LIMITS = [
    (4 * 32 * 32, 16384 * 32 * 32),  # qwen-vl-utils defaults with image_patch_size=16
    (64 * 32 * 32, 16384 * 32 * 32),  # the Qwen3-VL checkpoints' preprocessor (shortest/longest edge)
    (3136, 1280 * 32 * 32),  # a common agent budget
    (4 * 32 * 32, 2_000_000),  # not a multiple of 32²
    (3136, 12_845_056),  # the Qwen2.5-era 16384·28² budget on a factor-32 model
]


def test_factor_32_equals_qwen_vl_utils_with_patch_16() -> None:
    """Qwen3-VL: patch 16 × merge 2. qwen-vl-utils derives the factor from ``image_patch_size``; so do we."""
    qwen = pytest.importorskip("qwen_vl_utils")
    factor = 16 * qwen.vision_process.SPATIAL_MERGE_SIZE
    assert factor == 32
    compared = 0
    for width, height in _sizes(1200):
        for low, high in QWEN3_LIMITS:
            try:
                theirs = qwen.smart_resize(height, width, factor=factor, min_pixels=low, max_pixels=high)
            except ValueError:
                with pytest.raises(ImageSizeError):
                    smart_resize(height, width, factor, low, high)
                continue
            if 0 in theirs:
                with pytest.raises(ImageSizeError, match="shrink to 0"):
                    smart_resize(height, width, factor, low, high)
                continue
            assert smart_resize(height, width, factor, low, high) == theirs, (width, height, low, high)
            compared += 1
    assert compared >= 5000


def test_factor_32_defaults_match_fetch_image_with_patch_16() -> None:
    """The whole qwen-vl-utils image path at its Qwen3 defaults lands on our factor-32 size."""
    qwen = pytest.importorskip("qwen_vl_utils")
    from PIL import Image

    for width, height in [(1080, 2400), (1440, 3120), (1920, 1080), (3840, 2160), (5120, 1440)]:
        image = qwen.fetch_image({"image": Image.new("RGB", (width, height))}, image_patch_size=16)
        h, w = smart_resize(height, width, 32, 4 * 32 * 32, 16384 * 32 * 32)
        assert image.size == (w, h), (width, height)


def test_rejects_impossible_sizes() -> None:
    with pytest.raises(ImageSizeError, match="aspect ratio"):
        smart_resize(1, 201)
    with pytest.raises(ImageSizeError, match="positive"):
        smart_resize(0, 100)
    with pytest.raises(ImageSizeError, match="max_pixels"):
        smart_resize(100, 100, 28, 1000, 10)


def test_size_parse() -> None:
    assert Size.parse("1080x2400") == Size(1080, 2400)
    assert Size.parse("1920X1080") == Size(1920, 1080)
    with pytest.raises(ImageSizeError, match="WIDTHxHEIGHT"):
        Size.parse("1080*2400")
    with pytest.raises(ImageSizeError, match="positive"):
        Size.parse("0x100")


def test_tokens_for_image() -> None:
    assert tokens_for_image(1092, 2408) == 39 * 86 + 2


def test_relative_space_maps_edges_and_centre() -> None:
    space = CoordinateSpace.relative(1000)
    screen = Size(1080, 2400)
    assert space.to_device(0, 0, screen) == (0, 0)
    assert space.to_device(500, 500, screen) == (540, 1200)
    assert space.to_device(1000, 1000, screen) == (1079, 2399)


@pytest.mark.parametrize("point", [(-1, 10), (10, -0.5), (1000.5, 3), (3, 1001)])
def test_out_of_range_points_are_errors_not_clamps(point: tuple[float, float]) -> None:
    space = CoordinateSpace.relative(1000)
    with pytest.raises(CoordinateError, match="outside the screen") as info:
        space.to_device(*point, Size(1080, 2400), raw_text="reply")
    assert info.value.raw_text == "reply"
    assert info.value.point == point


def test_mapping_whole_actions_both_ways() -> None:
    screen = Size(1080, 2400)
    mapping = ScreenMapping(CoordinateSpace.pixels(1092, 2408), screen)
    swipe = Swipe(x=935, y=406, x2=100, y2=2408, space="pixels-1092x2408")
    device = mapping.to_device(swipe)
    assert (device.space, device.x, device.y, device.x2, device.y2) == ("device", 925, 405, 99, 2399)
    back = mapping.to_model(device)
    assert back.space == "pixels-1092x2408"
    assert abs(back.x - 935) <= 1 and abs(back.y - 406) <= 1
    assert mapping.to_device(Click()) == Click()
    with pytest.raises(ValueError, match="expects"):
        mapping.to_device(Click(x=1, y=1, space="fraction"))


def test_fraction_space_keeps_decimals() -> None:
    space = CoordinateSpace.fraction()
    assert space.from_device(540, 1200, Size(1080, 2400)) == (0.5, 0.5)
    assert space.to_device(0.25, 0.75, Size(1000, 1000)) == (250, 750)


def test_plan_pads_only_when_rounding_up_by_less_than_a_factor() -> None:
    phone = plan_image(Size(1080, 2400), pad=True)
    assert (phone.model, phone.padded, phone.content) == (Size(1092, 2408), True, Size(1080, 2400))
    assert not plan_image(Size(1080, 2400)).padded  # scaling is the default, as the cookbooks do
    assert not plan_image(Size(1010, 1010), pad=True).padded  # 1010 rounds down to 1008: no padding
    assert not plan_image(Size(1080, 2400), 28, 3136, 1280 * 28 * 28, pad=True).padded  # must shrink
    assert not plan_image(Size(1092, 2408), pad=True).padded  # already a multiple of 28


def test_padded_spaces_keep_device_pixels_and_refuse_the_padding() -> None:
    plan = plan_image(Size(1080, 2400), pad=True)
    pixels = CoordinateSpace.for_plan("pixels", plan)
    assert pixels.name == "pixels-1092x2408/pad-1080x2400"
    assert pixels.to_device(935, 406, plan.screen) == (935, 406)
    with pytest.raises(CoordinateError, match="fills the top-left 1080x2400"):
        pixels.to_device(1085, 10, plan.screen)
    relative = CoordinateSpace.for_plan("relative-1000", plan)
    # 500/1000 of the 1092-wide image is x=546 on the screen, not 540
    assert relative.to_device(500, 500, plan.screen) == (546, 1204)
    fraction = CoordinateSpace.for_plan("fraction", plan_image(Size(1080, 2400)))
    assert fraction == CoordinateSpace.fraction()
    with pytest.raises(ValueError, match="unknown coordinate kind"):
        CoordinateSpace.for_plan("inches", plan)

"""``guiagent eval-grounding --prompt official`` for every registered family, through the CLI, over HTTP.

One test, parametrized over the registry (no per-family code): the eight records of ``test_grounding`` on
their three screenshots, a real OpenAI-compatible server whose replies are the family's own grounding
answers (``family.format_grounding``) at the record's target (the records ``test_grounding`` scores as
hits) or at a point outside every box (all others). Checked: the exact accuracies; and that every request
carried the family's grounding prompt (``grounding_messages``, the authors' text and image/text order, not
the agent prompt), one image at the family's smart_resize size, temperature 0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from guiagent.actions.families import FAMILIES, ModelFamily, family_class, get_family
from guiagent.actions.geometry import Size, smart_resize
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.agent.cli import main
from guiagent.tasks.grounding_data import device_kind
from tests.fixtures.openai_server import data_url_size
from tests.tasks.test_grounding import (
    BY_ID,
    CASES,
    EXPECTED_BY_PLATFORM,
    EXPECTED_BY_TYPE,
    EXPECTED_OVERALL,
    MISS,
    SCREENS,
    Case,
    case_of,
    draw_screens,
    read_results,
    write_jsonl,
)

Shape = list[tuple[str, list[tuple[str, Any]]]]


def family_for(name: str, case: Case) -> ModelFamily:
    """The family as the CLI builds it for a record: the platform variant its screenshot needs."""
    kind = device_kind(case.platform)
    return get_family(name, platform=kind) if len(family_class(name).platforms) > 1 else get_family(name)


def screen_of(case: Case) -> Size:
    return Size(*SCREENS[case.image])


def expected_shape(messages: list[Message], image: Size) -> Shape:
    """Roles and ordered parts of the messages as they should arrive: texts exact, each image by its size."""
    shape: Shape = []
    for message in messages:
        parts: list[tuple[str, Any]] = []
        for part in message.content:
            if isinstance(part, TextPart):
                parts.append(("text", part.text))
            else:
                assert isinstance(part, ImageSlot)
                parts.append(("image", (image.width, image.height)))
        shape.append((message.role, parts))
    return shape


def sent_shape(body: dict[str, Any]) -> Shape:
    """What the request carried, in the same form."""
    shape: Shape = []
    for message in body["messages"]:
        parts: list[tuple[str, Any]] = []
        for part in message["content"]:
            if part["type"] == "text":
                parts.append(("text", part["text"]))
            else:
                parts.append(("image", data_url_size(part["image_url"]["url"])))
        shape.append((message["role"], parts))
    return shape


def answer(name: str) -> Any:
    """The scripted model: the family's own grounding answer at the target (hit) or at ``MISS``."""

    def reply(body: dict[str, Any]) -> str:
        case = case_of(body)
        family, screen = family_for(name, case), screen_of(case)
        target = case.centre if case.outcome == "hit" else MISS
        mx, my = family.space(screen).from_device(*target, screen)
        return family.format_grounding(mx, my, screen)

    return reply


@pytest.fixture
def official_data(tmp_path: Path) -> Path:
    draw_screens(tmp_path / "shots")
    records = [
        {
            "image": f"shots/{c.image}",
            "instruction": c.instruction,
            "bbox": list(c.bbox),
            "data_type": c.type,
            "platform": c.platform,
            "id": c.id,
        }
        for c in CASES
    ]
    return write_jsonl(tmp_path / "data.jsonl", records)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_official_grounding_prompt_through_the_cli(name: str, official_data: Path, scripted_server, tmp_path) -> None:
    scripted_server.script = [answer(name)] * len(CASES)
    out = tmp_path / "out"
    argv = ["eval-grounding", str(official_data), "--prompt", "official", "--family", name]
    argv += ["--base-url", scripted_server.url, "--out", str(out), "--json", "--workers", "2"]
    assert main(argv) == 0

    # Exact accuracy: every hit scored correct, every miss wrong, nothing unparsed or off the screen.
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["records"], summary["scored"], summary["unscored"]) == (8, 8, 0)
    assert (summary["overall"]["total"], summary["overall"]["correct"]) == EXPECTED_OVERALL
    assert {k: (v["total"], v["correct"]) for k, v in summary["by_type"].items()} == EXPECTED_BY_TYPE
    assert {k: (v["total"], v["correct"]) for k, v in summary["by_platform"].items()} == EXPECTED_BY_PLATFORM
    assert (summary["parse_failures"], summary["out_of_range"]) == (0, 0)
    results = {r.id: r for r in read_results(out)}
    assert set(results) == set(BY_ID)
    for case_id, result in results.items():
        case = BY_ID[case_id]
        assert result.error is None, (case_id, result.error, result.reply)
        assert result.correct is (case.outcome == "hit"), (case_id, result.point, result.reply)
        target = case.centre if case.outcome == "hit" else MISS
        assert result.point is not None
        assert max(abs(result.point[0] - target[0]), abs(result.point[1] - target[1])) <= 4, (case_id, result.point)

    # What was asked: the authors' grounding prompt, image at the family's size and place, temperature 0.
    assert len(scripted_server.requests) == len(CASES)
    for body in scripted_server.requests:
        case = case_of(body)
        family, screen = family_for(name, case), screen_of(case)
        model = family.model_size(screen)
        assert body["temperature"] == 0
        assert body.get("skip_special_tokens") is (False if family.needs_special_tokens else None)
        sent = sent_shape(body)
        assert sent == expected_shape(family.grounding_messages(case.instruction, screen), model)
        images = [size for _, parts in sent for kind, size in parts if kind == "image"]
        assert images == [(model.width, model.height)]
        assert model.width % family.factor == 0 and model.height % family.factor == 0
        if type(family).image_plan is ModelFamily.image_plan:
            low, high = family.pixel_limits
            assert smart_resize(screen.height, screen.width, family.factor, low, high) == (model.height, model.width)
        if type(family).grounding_messages is ModelFamily.grounding_messages:
            # No published grounding prompt: the agent prompt is used, and the family says so.
            assert sent == expected_shape(family.render(case.instruction, screen), model)
            assert "grounding" in family.choices.lower()
        # Otherwise the request is the grounding prompt; it differs from the agent prompt wherever the authors'
        # two requests differ (qwen3-vl-computer's cookbook asks both the same way, with no history).
    assert results["m-icon-1"].model_image == (
        family_for(name, BY_ID["m-icon-1"]).model_size(Size(540, 1200)).width,
        family_for(name, BY_ID["m-icon-1"]).model_size(Size(540, 1200)).height,
    )


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_format_grounding_reads_back_to_the_same_point(name: str) -> None:
    """``parse_grounding(format_grounding(p)) == p`` up to the units the family's grounding answer is written in."""
    for case in CASES:
        family, screen = family_for(name, case), screen_of(case)
        space = family.space(screen)
        for target in (case.centre, MISS):
            mx, my = space.from_device(*target, screen)
            px, py = family.parse_grounding(family.format_grounding(mx, my, screen), screen)
            x, y = space.to_device(px, py, screen)
            assert max(abs(x - target[0]), abs(y - target[1])) <= 2, (case.id, target, (x, y))

"""Model ids → families, and an unknown id answered with the list to choose from."""

from __future__ import annotations

import pytest

from guiagent.actions.errors import ConfigError
from guiagent.actions.families import FAMILIES, infer_family


@pytest.mark.parametrize(
    ("model_id", "device", "family"),
    [
        ("Qwen/Qwen3-VL-8B-Instruct", "android", "qwen3-vl-mobile"),
        ("Qwen/Qwen3-VL-8B-Thinking", "desktop", "qwen3-vl-computer"),
        ("Qwen/Qwen3.5-9B", "android", "qwen3-vl-mobile"),
        ("mPLUG/GUI-Owl-1.5-8B-Instruct", "desktop", "gui-owl-1.5-computer"),
        ("Tongyi-MAI/MAI-UI-8B", "android", "mai-ui"),
        ("inclusionAI/UI-Venus-1.5-8B", "android", "ui-venus-1.5"),
        ("zai-org/AutoGLM-Phone-9B", "android", "autoglm-phone"),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "desktop", "qwen2.5-vl-computer"),
        ("ByteDance-Seed/UI-TARS-1.5-7B", "android", "ui-tars-1.5"),
    ],
)
def test_ids_name_their_family(model_id: str, device: str, family: str) -> None:
    assert infer_family(model_id, device) == family


def test_an_unknown_id_lists_every_family() -> None:
    with pytest.raises(ConfigError, match="pass --family") as caught:
        infer_family("acme/vision-7b", "android")
    assert all(name in str(caught.value) for name in FAMILIES)

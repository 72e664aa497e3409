"""Guessing a model's family from its id, so ``--model showlab/ShowUI-2B`` needs no ``--family``."""

from __future__ import annotations

from ..errors import ConfigError

__all__ = ["infer_family"]

_PATTERNS = (
    ("autoglm-phone", "autoglm-phone"),  # zai-org/AutoGLM-Phone-9B(-Multilingual), autoglm-phone-multilingual
    ("auto-glm-9b", "autoglm-phone"),  # parasail-auto-glm-9b-multilingual (README_en third-party services)
    # mPLUG/GUI-Owl-1.5-{2B,4B,8B,32B}-Instruct, -8B-Think, -32B-Think; GUI-Owl v1 (mPLUG/GUI-Owl-7B,
    # -32B) is Qwen2.5-VL with pixel coordinates, a different format: deliberately not matched.
    ("gui-owl-1.5", "gui-owl-1.5-{platform}"),
    ("gui_owl_1.5", "gui-owl-1.5-{platform}"),
    ("gui_owl_1_5", "gui-owl-1.5-{platform}"),
    ("guiowl-1.5", "gui-owl-1.5-{platform}"),
    ("guiowl15", "gui-owl-1.5-{platform}"),
    # inclusionAI/UI-Venus-1.5-{2B,8B,30B-A3B} (Qwen3-VL); UI-Venus 1.0 (UI-Venus-Ground-7B/72B,
    # UI-Venus-Navi-7B/72B, Qwen2.5-VL, pixel coordinates) and UI-Venus-2 are other formats: not matched.
    ("ui-venus-1.5", "ui-venus-1.5"),
    ("ui_venus_1.5", "ui-venus-1.5"),
    ("ui_venus_1_5", "ui-venus-1.5"),
    # Tongyi-MAI/MAI-UI-2B, -8B (README); also served as "MAI-UI-8B". MAI-UI's plain prompt (no ask_user):
    # pass --family mai-ui-ask-user for the ask_user prompt.
    ("mai-ui", "mai-ui"),
    ("mai_ui", "mai-ui"),
    ("maiui", "mai-ui"),
    ("ui-tars-1.5", "ui-tars-1.5"),
    ("ui-tars-7b-1.5", "ui-tars-1.5"),
    ("ui-tars", "ui-tars"),
    ("showui", "showui"),
    ("os-atlas", "qwen2-vl"),
    # Qwen/Qwen3-VL-{2B,4B,8B,32B,30B-A3B,235B-A22B}-{Instruct,Thinking}, DashScope qwen3-vl-plus, the
    # cookbook's "qwen3vl-235A22-instruct". Qwen3.5/3.6 (Qwen/Qwen3.5-*, qwen3.6-*) have no GUI cookbook of
    # their own: mapped to the Qwen3-VL families as midscene does (unverified by the authors).
    ("qwen3-vl", "qwen3-vl-{platform}"),
    ("qwen3_vl", "qwen3-vl-{platform}"),
    ("qwen3vl", "qwen3-vl-{platform}"),
    ("qwen3.5", "qwen3-vl-{platform}"),
    ("qwen3_5", "qwen3-vl-{platform}"),
    ("qwen3.6", "qwen3-vl-{platform}"),
    ("qwen3_6", "qwen3-vl-{platform}"),
    ("qwen2.5-vl", "qwen2.5-vl-{platform}"),
    ("qwen2_5_vl", "qwen2.5-vl-{platform}"),
    ("qwen2-vl", "qwen2-vl"),
    ("qwen2_vl", "qwen2-vl"),
)


def infer_family(model_id: str, device_kind: str) -> str:
    """The family name for a model id on a device kind (``android`` → mobile, ``desktop`` → computer).

    Raises:
        ConfigError: nothing in the id says which family it is; the message says to pass ``--family``.
    """
    lowered = model_id.lower()
    platform = "computer" if device_kind == "desktop" else "mobile"
    for pattern, family in _PATTERNS:
        if pattern in lowered:
            return family.format(platform=platform)
    from . import FAMILIES  # the registry imports this module: look it up only when needed

    raise ConfigError(
        f"cannot tell the model family of {model_id!r}; pass --family, one of: {', '.join(FAMILIES)} "
        "(`guiagent families` describes each)"
    )

"""Model families: prompt format, reply parser and coordinate space, one object each.

``get_family("qwen2.5-vl-mobile", max_pixels=1280 * 28 * 28)`` returns a configured family;
``FAMILIES`` lists every name. A family is immutable and safe to share between threads.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .autoglm import AutoGLMPhone
from .base import HistoryStep, ModelFamily, ParsedReply, Platform
from .guiowl import GUIOwl15Computer, GUIOwl15Mobile
from .infer import infer_family
from .maiui import MaiUI, MaiUIAskUser
from .qwen2vl import Qwen2VL
from .qwen3vl import Qwen3VLComputer, Qwen3VLMobile
from .qwen25vl import Qwen25VLComputer, Qwen25VLMobile
from .showui import ShowUI
from .uitars import UITars, UITars15
from .uivenus import UIVenus15

__all__ = [
    "AutoGLMPhone",
    "FAMILIES",
    "GUIOwl15Computer",
    "GUIOwl15Mobile",
    "HistoryStep",
    "MaiUI",
    "MaiUIAskUser",
    "ModelFamily",
    "ParsedReply",
    "Platform",
    "Qwen2VL",
    "Qwen25VLComputer",
    "Qwen25VLMobile",
    "Qwen3VLComputer",
    "Qwen3VLMobile",
    "ShowUI",
    "UITars",
    "UITars15",
    "UIVenus15",
    "family_class",
    "get_family",
    "infer_family",
]

FAMILIES: dict[str, type[ModelFamily]] = {
    cls.name: cls
    for cls in (
        Qwen25VLMobile,
        Qwen25VLComputer,
        Qwen2VL,
        UITars,
        UITars15,
        ShowUI,
        GUIOwl15Mobile,
        GUIOwl15Computer,
        AutoGLMPhone,
        UIVenus15,
        MaiUI,
        MaiUIAskUser,
        Qwen3VLMobile,
        Qwen3VLComputer,
    )
}
"""Every family by name."""


def family_class(name: str) -> type[ModelFamily]:
    """The family class called ``name`` (case and surrounding spaces ignored).

    Raises:
        ConfigError: no family has that name; the message lists the names.
    """
    try:
        return FAMILIES[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"unknown model family {name!r}; choose one of: {', '.join(FAMILIES)}") from None


def get_family(name: str, **options: Any) -> ModelFamily:
    """The family called ``name``, configured with ``min_pixels``, ``max_pixels`` or ``platform``.

    Raises:
        ConfigError: no family has that name (the message lists the names), or an option is invalid.
    """
    cls = family_class(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"invalid option for family {name!r}: {exc}") from None

"""Which actions need a person's yes before they happen.

``--confirm`` asks before every action; ``--confirm risky`` only before those this policy marks: typing
into a password field, and taps or keys whose target or stated purpose is to send, pay, buy, delete,
uninstall, transfer or reset. The target is what the device says is under the point (Android's UI
hierarchy) and the model's own thought; a device that cannot say (a desktop) is judged on the thought.

A step the model itself declares sensitive (``ParsedReply.sensitive``: AutoGLM's ``message`` on a tap that
pays or deletes) is asked about in every mode, with the model's message as the reason:

==========================  ==============================================================
``--confirm`` given         a step the model declares sensitive
==========================  ==============================================================
nothing (default never)     asked: a model that says "this pays money" is not overridden
                            silently; with nobody to ask (no terminal) the answer is no
``risky``                   asked, even when the risk words do not match
``always``                  asked (as every action is), the model's message as the reason
``never``, typed            not asked: the person explicitly turned every question off
==========================  ==============================================================

Every device action of a declared step is asked about (families that declare one put one action in a
step). Replay applies the same policy to the recorded steps, using the declaration the step recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from guiagent.actions.types import Action

__all__ = ["ActionContext", "ConfirmMode", "ConfirmPolicy", "RISKY_WORDS"]

RISKY_WORDS = (
    "send",
    "pay",
    "payment",
    "purchase",
    "buy",
    "checkout",
    "order",
    "delete",
    "remove",
    "uninstall",
    "transfer",
    "erase",
    "reset",
    "format",
    "wipe",
    "factory",
)
_RISKY = re.compile(r"\b(" + "|".join(RISKY_WORDS) + r")\b", re.IGNORECASE)
_TAPS = {"click", "double_click", "long_press", "key", "system_button"}


@dataclass(frozen=True)
class ActionContext:
    """What is known about an action's target when deciding whether to ask.

    Args:
        thought: the model's reasoning for this step.
        target_label: the text of the element under the action's point, when the device can tell.
        field_is_password: whether the focused input is a password field, when the device can tell.
    """

    thought: str | None = None
    target_label: str | None = None
    field_is_password: bool | None = None


ConfirmMode = Literal["never", "always", "risky"]


@dataclass(frozen=True)
class ConfirmPolicy:
    """``never`` (the default), ``always``, or ``risky``; see the module docstring for declared steps.

    Args:
        mode: which actions are asked about on the policy's own judgement.
        model_sensitive: also ask before a step the model declares sensitive. True unless the person
            typed ``--confirm never`` (``from_flag("never")``), the only way to silence the model's own warning.
    """

    mode: ConfirmMode = "never"
    model_sensitive: bool = True

    @classmethod
    def from_flag(cls, flag: str | None) -> ConfirmPolicy:
        """The policy for a ``--confirm`` value: None (flag absent), ``never``, ``always`` or ``risky``."""
        if flag is None:
            return cls()
        if flag not in ("never", "always", "risky"):
            from guiagent.actions.errors import ConfigError

            raise ConfigError(f"--confirm takes never, always or risky, got {flag!r}")
        return cls(flag, model_sensitive=flag != "never")  # type: ignore[arg-type]

    def reason(self, action: Action, context: Callable[[], ActionContext], sensitive: str | None = None) -> str | None:
        """Why this action needs confirmation, or None. ``context`` is called only when needed.

        ``sensitive`` is the model's declaration for the step, if it made one.
        """
        if sensitive and (self.model_sensitive or self.mode != "never"):
            return f"the model says this step is sensitive: {sensitive.strip()[:200]}"
        if self.mode == "never":
            return None
        if self.mode == "always":
            return "confirmation is required for every action"
        if action.type not in _TAPS and action.type != "type":
            return None
        known = context()
        if action.type == "type" and known.field_is_password:
            return "it types into a password field"
        if action.type in _TAPS:
            for source, text in (("the target", known.target_label), ("the model's plan", known.thought)):
                match = _RISKY.search(text or "")
                if match:
                    return f"{source} says {match.group(0)!r} ({(text or '').strip()[:80]})"
        return None

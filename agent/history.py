"""What the model is shown of earlier steps, and what that costs in tokens.

Earlier steps always appear as text in the family's own format (the cookbook's ``Step 1: {...};``,
UI-TARS' earlier replies). On top, the last ``max_images`` screenshots may be sent again, optionally
shrunk. Image tokens are exact (smart_resize arithmetic: one token per 28×28 patch, plus two); text tokens
are estimated at ~3.5 characters per token. When an estimate exceeds the budget, the oldest screenshots
are dropped first — the current screenshot and the text history never are.

Only the images that can still be sent are kept in memory, so a 500-step run holds at most
``max_images`` of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guiagent.actions.families import HistoryStep, ModelFamily
from guiagent.actions.geometry import IMAGE_FACTOR, ScreenMapping, Size, tokens_for_image
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.actions.types import Action

from .images import shrink_for_history

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["History", "HistoryPolicy", "PastStep", "estimate_tokens"]

CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class HistoryPolicy:
    """How much of the past goes into each prompt.

    Args:
        max_images: earlier screenshots to send; ``None`` uses the family's default.
        image_scale: scale for earlier screenshots (0.5 halves each side, a quarter of the tokens).
        token_budget: upper bound on the estimated prompt tokens; ``None`` for no bound.
    """

    max_images: int | None = None
    image_scale: float = 1.0
    token_budget: int | None = None

    def images_for(self, family: ModelFamily) -> int:
        """The number of earlier screenshots in effect for ``family``."""
        return family.default_history_images if self.max_images is None else max(0, self.max_images)


@dataclass
class PastStep:
    """One earlier step as the agent remembers it (device-space actions; its model image while useful)."""

    index: int
    actions: tuple[Action, ...] = ()
    reply: str = ""
    error: str | None = None
    image: Image.Image | None = None


def estimate_tokens(messages: Sequence[Message], factor: int = IMAGE_FACTOR) -> int:
    """Prompt tokens: exact for images (``factor`` px per merged token side: 28, or 32 for Qwen3-VL),
    ~3.5 characters per token for text."""
    text = 0
    images = 0
    for message in messages:
        text += 4  # role markers
        for part in message.content:
            if isinstance(part, TextPart):
                text += len(part.text)
            elif isinstance(part, ImageSlot):
                images += tokens_for_image(part.width, part.height, factor)
    return images + math.ceil(text / CHARS_PER_TOKEN)


@dataclass
class History:
    """The run's memory of earlier steps, and the prompt material built from it."""

    family: ModelFamily
    policy: HistoryPolicy = field(default_factory=HistoryPolicy)
    steps: list[PastStep] = field(default_factory=list)

    def add(self, step: PastStep) -> None:
        """Remember a step; drop the images that can no longer be sent."""
        keep = self.policy.images_for(self.family)
        if keep and step.image is not None:
            step.image = shrink_for_history(step.image, self.policy.image_scale, self.family.factor)
        else:
            step.image = None
        self.steps.append(step)
        with_images = [s for s in self.steps if s.image is not None]
        for old in with_images[: max(0, len(with_images) - keep)]:
            old.image = None

    def build(
        self,
        task: str,
        screen: Size,
        current: Image.Image,
        feedback: str | None = None,
    ) -> tuple[list[Message], dict[str, Image.Image], int]:
        """Messages, their images and the estimated prompt tokens for the next step."""
        mapping = self.family.mapping(screen)
        allowed = {s.index for s in self.steps if s.image is not None}
        while True:
            history = [self._history_step(s, mapping, s.index in allowed) for s in self.steps]
            messages = self.family.render(task, screen, history, feedback)
            tokens = estimate_tokens(messages, self.family.factor)
            budget = self.policy.token_budget
            if budget is None or tokens <= budget or not allowed:
                break
            allowed.discard(min(allowed))
        images: dict[str, Image.Image] = {"current": current}
        for step in self.steps:
            if step.index in allowed and step.image is not None:
                images[f"step-{step.index}"] = step.image
        return messages, images, tokens

    def _history_step(self, step: PastStep, mapping: ScreenMapping, with_image: bool) -> HistoryStep:
        actions: list[Action] = []
        for action in step.actions:
            try:
                actions.append(mapping.to_model(action))
            except ValueError:
                continue
        slot = None
        if with_image and step.image is not None:
            slot = ImageSlot(f"step-{step.index}", step.image.width, step.image.height)
        return HistoryStep(actions=tuple(actions), reply=step.reply, image=slot, error=step.error)

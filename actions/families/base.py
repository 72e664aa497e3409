"""What a model family is: a prompt format, a reply parser and a coordinate space that cannot disagree.

A family object is configured once (pixel limits, platform) and then answers, for any screen size:
the size the model sees, the space it answers in, the messages to send, and what its reply means.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import ClassVar, Literal, TypeAlias

from ..errors import ActionParseError, ConfigError
from ..geometry import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MIN_PIXELS,
    IMAGE_FACTOR,
    CoordinateSpace,
    ImagePlan,
    Rounding,
    ScreenMapping,
    Size,
    plan_image,
)
from ..messages import CURRENT_IMAGE, ImageSlot, Message
from ..types import Action, Click

__all__ = ["MAX_REPLY_CHARS", "HistoryStep", "ModelFamily", "ParsedReply", "Platform", "load_prompt"]

Platform: TypeAlias = Literal["mobile", "computer"]
MAX_REPLY_CHARS = 20_000
"""Replies longer than this are refused before parsing: no real action takes that much text."""


@dataclass(frozen=True)
class ParsedReply:
    """A reply understood: the model's reasoning, if any, and its actions in the model's space."""

    raw_text: str
    actions: tuple[Action, ...]
    thought: str | None = None
    sensitive: str | None = None
    """The model's own statement that this step is a sensitive operation (AutoGLM's ``message`` on a
    tap that pays or deletes); the confirm policy asks a person before it runs."""


@dataclass(frozen=True)
class HistoryStep:
    """What a prompt needs of one earlier step.

    Args:
        actions: the step's actions in the model's space of the current screen (empty if it failed).
        reply: the model's raw reply for that step.
        image: the step's screenshot slot, when the history policy includes it.
        error: the reason the step's reply was refused, when it was.
    """

    actions: tuple[Action, ...] = ()
    reply: str = ""
    image: ImageSlot | None = None
    error: str | None = None


def load_prompt(name: str) -> str:
    """The text of a prompt file shipped in ``guiagent/actions/prompts`` (exact bytes, UTF-8)."""
    return resources.files("guiagent.actions").joinpath("prompts").joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class ModelFamily(ABC):
    """One model family. Subclasses set the class variables and implement the four abstract methods.

    Args:
        min_pixels: smallest image area the model is given (defaults to the family's).
        max_pixels: largest image area; screenshots above it are scaled down.
        platform: which prompt to use where a family has a phone and a desktop variant.
        pad: when the smart_resize size is the screenshot rounded up by less than 28 px a side, pad the
            screenshot instead of resizing it (exact pixels, no interpolation). Off by default: the models
            were trained on resized images, as the cookbooks send them. The prompt and the coordinate space
            follow whichever was chosen.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    space_kind: ClassVar[str]
    """The family's units across the model image: ``pixels``, ``relative-1000`` or ``fraction``."""
    default_min_pixels: ClassVar[int] = DEFAULT_MIN_PIXELS
    default_max_pixels: ClassVar[int] = DEFAULT_MAX_PIXELS
    default_platform: ClassVar[Platform] = "mobile"
    platforms: ClassVar[tuple[Platform, ...]] = ()
    """The prompt variants, when a family has one per platform (the CLI then picks it by device kind)."""
    default_history_images: ClassVar[int] = 0
    needs_special_tokens: ClassVar[bool] = False
    factor: ClassVar[int] = IMAGE_FACTOR
    rounding: ClassVar[Rounding] = "nearest"
    """How the authors' executor turns a model value into a pixel (``geometry.Rounding``)."""
    source: ClassVar[str] = ""
    """Where the format comes from: the authors' repository and files it was read from."""
    choices: ClassVar[str] = ""
    """Where the authors' own sources disagree, which one this family follows and why."""

    min_pixels: int | None = None
    max_pixels: int | None = None
    platform: Platform | None = field(default=None)
    pad: bool = False

    def __post_init__(self) -> None:
        if self.platform is not None and self.platform not in ("mobile", "computer"):
            raise ConfigError(f"platform must be 'mobile' or 'computer', got {self.platform!r}")
        if self.pixel_limits[0] <= 0 or self.pixel_limits[1] < self.pixel_limits[0]:
            raise ConfigError(f"pixel limits must satisfy 0 < min_pixels <= max_pixels, got {self.pixel_limits}")

    @property
    def pixel_limits(self) -> tuple[int, int]:
        """``(min_pixels, max_pixels)`` in effect."""
        low = self.min_pixels if self.min_pixels is not None else self.default_min_pixels
        high = self.max_pixels if self.max_pixels is not None else self.default_max_pixels
        return low, high

    @property
    def active_platform(self) -> Platform:
        """The platform in effect."""
        return self.platform or self.default_platform

    def image_plan(self, screen: Size) -> ImagePlan:
        """How this screen's screenshot becomes the model's image (size; padded or scaled)."""
        low, high = self.pixel_limits
        return plan_image(screen, self.factor, low, high, self.pad)

    def model_size(self, screen: Size) -> Size:
        """The size of the image the model sees for this screen (smart_resize)."""
        return self.image_plan(screen).model

    def space(self, screen: Size) -> CoordinateSpace:
        """The coordinate space this family answers in, for this screen."""
        return CoordinateSpace.for_plan(self.space_kind, self.image_plan(screen), self.rounding)

    def mapping(self, screen: Size) -> ScreenMapping:
        """Model space ↔ device pixels for this screen."""
        return ScreenMapping(self.space(screen), screen)

    def current_image(self, screen: Size) -> ImageSlot:
        """The slot for this step's screenshot at full family resolution."""
        size = self.model_size(screen)
        return ImageSlot(CURRENT_IMAGE, size.width, size.height)

    def parse_to_device(self, text: str, screen: Size) -> tuple[ParsedReply, tuple[Action, ...]]:
        """Parse a reply and map its actions to device pixels.

        Raises:
            ActionError: ``ActionParseError`` or ``CoordinateError``, each with ``raw_text`` and ``reason``.
        """
        reply = self.parse(text, screen)
        mapping = self.mapping(screen)
        return reply, tuple(mapping.to_device(a, text) for a in reply.actions)

    def check_reply(self, text: str) -> str:
        """Refuse replies that are not text or are absurdly long, before any parsing."""
        if not isinstance(text, str):
            raise ActionParseError(f"the reply must be text, got {type(text).__name__}", str(text))
        if len(text) > MAX_REPLY_CHARS:
            raise ActionParseError(
                f"the reply is {len(text)} characters long; reply with one short action", text[:2000]
            )
        if not text.strip():
            raise ActionParseError("the reply is empty; reply with an action", text)
        return text

    @abstractmethod
    def render(
        self,
        task: str,
        screen: Size,
        history: Sequence[HistoryStep] = (),
        feedback: str | None = None,
    ) -> list[Message]:
        """The messages for the next step: task, history, the current screenshot slot, optional feedback.

        ``feedback`` is the reason the previous reply was refused; it asks the model to try again.
        """

    @abstractmethod
    def parse(self, text: str, screen: Size) -> ParsedReply:
        """Understand a reply; actions come back in ``self.space(screen)``.

        Raises:
            ActionParseError: no action, several where one is expected, bad syntax or fields.
        """

    @abstractmethod
    def format_action(self, action: Action, thought: str | None = None) -> str:
        """The reply this family's model would write for ``action`` (given in the model's space)."""

    def history_text(self, action: Action) -> str:
        """How one past action is written in the text history (defaults to the reply form)."""
        return self.format_action(action)

    def grounding_messages(self, instruction: str, screen: Size) -> list[Message]:
        """The messages that ask the model to locate one described element on this screen.

        Families whose authors publish a grounding prompt (the one their ScreenSpot numbers were measured
        with) override this; the default asks through the agent prompt, as the agent itself would.
        """
        return self.render(instruction, screen)

    def parse_grounding(self, text: str, screen: Size) -> tuple[float, float]:
        """The point a grounding answer names, in ``self.space(screen)`` (a box is its centre).

        Raises:
            ActionParseError: the answer names no point.
        """
        for action in self.parse(text, screen).actions:
            for _, _, x, y in action.points():
                return float(x), float(y)
        raise ActionParseError("the answer names no point; reply with the element's coordinates", text)

    def format_grounding(self, x: float, y: float, screen: Size) -> str:
        """The answer this family's model writes to its grounding prompt for a point in model space.

        ``parse_grounding`` reads it back to the same point (within the family's units). Families whose
        grounding answer is not an agent reply override this; the default is the agent's click.
        """
        return self.format_action(Click(x=x, y=y, space=self.space(screen).name))


def wrap_validation(raw_text: str, what: str, exc: Exception) -> ActionParseError:
    """Turn a pydantic error about a model's action into a one-line reason for the model."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("function-after",))
        detail = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
        return ActionParseError(f"invalid {what}: {detail}", raw_text)
    return ActionParseError(f"invalid {what}: {exc}", raw_text)

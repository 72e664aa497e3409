"""The model interface: chat messages with images in, text out, with token counts and time.

A backend never resizes: every image arrives at exactly the size its ``ImageSlot`` names (the family's
smart_resize size), so the model's coordinate space is the one the prompt states. Backends are safe to
share between threads and agents (one server, many devices).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guiagent.actions.errors import ModelError
from guiagent.actions.messages import ImageSlot, Message

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["DeadlineReached", "ModelBackend", "ModelReply", "ModelRequest"]


class DeadlineReached(ModelError):
    """The request's deadline (the run's time limit) came before a reply: the agent ends the run ``timeout``.

    Not a ``ModelUnavailable``: the server may be fine, and a failover must not take it out or try another
    one for a run that has no time left. ``.waited`` is how long this request waited, ``.last_error`` the
    failure being retried when time ran out (empty when the only attempt was cut).
    """

    def __init__(self, message: str, model: str = "", waited: float = 0.0, last_error: str = "") -> None:
        super().__init__(message, model)
        self.waited = waited
        self.last_error = last_error


@dataclass(frozen=True)
class ModelRequest:
    """One generation request.

    Args:
        messages: the family's messages; image parts are slots naming keys of ``images``.
        images: every slot's image, already at the slot's exact size.
        max_new_tokens: upper bound on the reply length.
        temperature: 0 for greedy decoding (the default: agents want repeatable actions).
        keep_special_tokens: the family's replies contain special tokens (Qwen2-VL's ``<|box_start|>``)
            that must not be stripped when decoding.
        deadline: ``time.monotonic()`` by which the reply is needed (the run's time limit), or None. A backend
            that can stop waiting (HTTP) caps each attempt's timeout and its retries by it and raises
            ``DeadlineReached`` when it passes; one that cannot interrupt its work may ignore it.
    """

    messages: Sequence[Message]
    images: Mapping[str, Image.Image] = field(default_factory=dict)
    max_new_tokens: int = 512
    temperature: float = 0.0
    keep_special_tokens: bool = False
    deadline: float | None = None

    def ordered_images(self) -> list[tuple[ImageSlot, Image.Image]]:
        """Every image slot in message order with its image; a missing or wrongly sized image is an error."""
        out: list[tuple[ImageSlot, Image.Image]] = []
        for message in self.messages:
            for slot in message.images():
                image = self.images.get(slot.key)
                if image is None:
                    raise ValueError(f"no image was given for slot {slot.key!r}")
                if image.size != (slot.width, slot.height):
                    raise ValueError(
                        f"image {slot.key!r} is {image.size[0]}x{image.size[1]}, the slot needs "
                        f"{slot.width}x{slot.height}: resize it with the family's plan before sending"
                    )
                out.append((slot, image))
        return out


@dataclass(frozen=True)
class ModelReply:
    """What the model said, and what it cost.

    Args:
        text: the reply text (special tokens kept when the request asked for them).
        prompt_tokens: tokens in the prompt, images included, as the backend counted them (None if unknown).
        completion_tokens: tokens generated (None if unknown).
        seconds: wall time of the call, retries included.
        model: the model's id as the backend knows it.
        prepare_seconds: the part of ``seconds`` spent on this machine before the model ran (encoding
            images, tokenizing), so step timings can tell framework time from model time.
    """

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seconds: float = 0.0
    model: str = ""
    prepare_seconds: float = 0.0


class ModelBackend(ABC):
    """Something that turns a ``ModelRequest`` into a ``ModelReply``.

    Raises from ``complete``: ``ModelRequestError`` (the request itself is wrong; not retried),
    ``ModelUnavailable`` (timeouts, connection failures, 5xx after retries), ``DeadlineReached`` (the
    request's deadline passed first).
    """

    model_id: str = ""

    @abstractmethod
    def complete(self, request: ModelRequest) -> ModelReply:
        """Generate a reply."""

    def close(self) -> None:  # noqa: B027 - a no-op default: backends without resources skip it
        """Release connections or memory; safe to call twice."""

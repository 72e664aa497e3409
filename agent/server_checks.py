"""Did the server see the images guiagent sent? Detecting a second resize from the reported prompt tokens.

guiagent sends every screenshot at its family's smart_resize size, so it knows the image tokens of a prompt
exactly (``(w/f)·(h/f) + 2`` per image). A server whose processor has a lower ``max_pixels`` (vLLM's
``--mm-processor-kwargs``, the checkpoint's ``preprocessor_config.json``) resizes again, silently, and
reports fewer prompt tokens. The text's share is not known exactly without the server's tokenizer, so the
check asks whether the tokens left for the text after subtracting the images are plausible: BPE tokenizers
average 3–4 characters per token on prompts like these and never 8. A reply whose prompt leaves the text
fewer tokens than that (or none) came from resized images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from guiagent.actions.geometry import tokens_for_image
from guiagent.actions.messages import ImageSlot, Message, TextPart

__all__ = ["MAX_CHARS_PER_TOKEN", "ImageTokenCheck", "check_image_tokens"]

MAX_CHARS_PER_TOKEN = 8.0
"""More characters per text token than this means the image tokens were fewer than sent."""
_TYPICAL_CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class ImageTokenCheck:
    """What the reported prompt tokens say about the images.

    Args:
        sent: image tokens in the prompt as sent (exact).
        seen: image tokens the server seems to have used (an estimate when resized).
        resized: whether the server resized the images again.
    """

    sent: int
    seen: int
    resized: bool

    def explain(self, pixel_family: bool) -> str:
        """One message naming the numbers and the two ways to fix it."""
        consequence = (
            "this family answers in pixels of the image it saw, so every click would land off target"
            if pixel_family
            else "coordinates stay right (this family's are relative), but the model sees a blurrier screen"
        )
        return (
            f"the server saw about {self.seen} image tokens where guiagent sent {self.sent}: it resized the "
            f"screenshots again; {consequence}. Raise the server's limit (vLLM: --mm-processor-kwargs "
            "'{\"max_pixels\": N}' with N at least the family's max_pixels, or the checkpoint's preprocessor "
            "max_pixels), or lower the family's with --max-pixels to what the server allows"
        )


def check_image_tokens(messages: Sequence[Message], factor: int, reported_prompt_tokens: int) -> ImageTokenCheck:
    """Compare the prompt as sent with the prompt tokens the server reported."""
    sent = 0
    chars = 0
    for message in messages:
        for part in message.content:
            if isinstance(part, ImageSlot):
                sent += tokens_for_image(part.width, part.height, factor)
            elif isinstance(part, TextPart):
                chars += len(part.text)
    text_tokens = reported_prompt_tokens - sent
    resized = sent > 0 and (text_tokens <= 0 or chars / text_tokens > MAX_CHARS_PER_TOKEN)
    seen = sent
    if resized:
        seen = max(0, reported_prompt_tokens - math.ceil(chars / _TYPICAL_CHARS_PER_TOKEN))
    return ImageTokenCheck(sent=sent, seen=seen, resized=resized)

"""Reasoning blocks in replies: ``<think>…</think>`` and ``<thinking>…</thinking>``.

Thinking variants of the 2026 models (Qwen3-VL-*-Thinking, GUI-Owl-1.5-Thinking, MAI-UI) reason before
they act. That reasoning is the step's thought, never an action and never a parse error. A chat template
that opens ``<think>`` itself leaves only the closing tag in the reply, so a lone ``</think>`` closes a
block that started at the beginning. A reply that ends inside an open block was cut off by the token
limit: that gets its own reason, because re-asking with the same limit would be cut off again.
"""

from __future__ import annotations

import re

from ..errors import ActionParseError

__all__ = ["THINK_TAGS", "split_thinking"]

THINK_TAGS = ("think", "thinking")
_BLOCK = re.compile(r"<(think|thinking)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_OPEN = re.compile(r"<(think|thinking)>", re.IGNORECASE)
_CLOSE = re.compile(r"</(think|thinking)>", re.IGNORECASE)


def split_thinking(text: str) -> tuple[str | None, str]:
    """``(thought, rest)``: the reasoning blocks joined, and the reply with them removed.

    Raises:
        ActionParseError: the reply ends inside a reasoning block (it was truncated).
    """
    thoughts: list[str] = []
    rest = text
    first_close = _CLOSE.search(rest)
    first_open = _OPEN.search(rest)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        thoughts.append(rest[: first_close.start()].strip())
        rest = rest[first_close.end() :]

    def keep(match: re.Match[str]) -> str:
        thoughts.append(match.group(2).strip())
        return "\n"

    rest = _BLOCK.sub(keep, rest)
    dangling = _OPEN.search(rest)
    if dangling:
        tail = rest[dangling.end() :]
        if not _CLOSE.search(tail):
            raise ActionParseError(
                f"the reply was cut off inside its <{dangling.group(1)}> block before any action; "
                "raise max_new_tokens (--max-new-tokens) so the model can finish thinking and act",
                text,
            )
    rest = _CLOSE.sub("", rest)
    thought = "\n\n".join(t for t in thoughts if t) or None
    return thought, rest.strip()

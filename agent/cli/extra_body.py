"""``--extra-body JSON`` / ``--extra-body @FILE``: request fields for the endpoint that guiagent has no flag for.

Structured outputs, ``top_k``, ``repetition_penalty``, vLLM's ``mm_processor_kwargs``: servers accept far
more than the OpenAI fields, and which ones differs per server, so guiagent does not model them. The
object is merged into every chat-completions body last, exactly as given (``OpenAICompatibleBackend``'s
``extra_body``), so it can also override guiagent's own ``max_tokens`` or ``temperature``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["extra_body"]


def extra_body(text: str) -> dict[str, Any]:
    """A JSON object, given inline or as ``@FILE`` (a file holding one); argparse's ``type=``."""
    source = "the value"
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror or exc}") from None
        source = str(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"{source} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "give an object such as '{\"top_k\": 1}' or @FILE"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{source} must be a JSON object ({{...}}), got {type(value).__name__}")
    return value


extra_body.accepts_table = True  # type: ignore[attr-defined]  # a TOML table in guiagent.toml is the same object

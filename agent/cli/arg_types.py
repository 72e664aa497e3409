"""argparse ``type=`` functions for the values users type, so nonsense is refused where it is typed.

A bad value becomes argparse's own usage error (``guiagent run: error: argument --timeout: ...``, exit 2),
naming the flag and what it accepts, instead of travelling on and failing later as something else: a
``--timeout 0`` used to surface as an HTTP ``ConnectError``, ``--history-images -1`` was silently read as 0.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["non_blank", "non_negative_int", "port", "positive_int", "positive_seconds"]

MAX_PORT = 65535


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A whole number of at least 1 (step limits, worker counts)."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number of at least 0 (how many earlier screenshots to send)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """A finite number of seconds above 0 (timeouts and time limits)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    value = _whole(text)
    if not 1 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"a TCP port is 1 to {MAX_PORT}, got {value}")
    return value


def non_blank(text: str) -> str:
    """Text with something in it besides spaces (a task for the model)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: say what the agent should do, e.g. 'Turn off Wi-Fi'")
    return text

"""The flags of ``guiagent run`` that set ``AgentConfig``: one flag per field a user would set.

Each flag defaults to None, meaning "``AgentConfig``'s own default", so the defaults live in one place
(``guiagent.agent.settings``) and the help texts quote them. The same names are the keys of
``guiagent.toml`` (``guiagent.agent.cli.config_file``).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .arg_types import non_negative_int, positive_int, positive_seconds

__all__ = ["add_agent_options", "agent_config"]


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _fraction(text: str) -> float:
    value = _non_negative(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1, got {text}")
    return value


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """Limits, sampling, settling and history flags (``--max-steps``, ``--temperature``, ``--no-settle``...)."""
    group = parser.add_argument_group("agent settings")
    add = group.add_argument
    add("--max-steps", metavar="N", type=positive_int, default=None, help="step limit (default 30)")
    add(
        "--time-limit",
        metavar="SECONDS",
        type=positive_seconds,
        default=None,
        help="seconds before giving up (default: none)",
    )
    add(
        "--max-invalid-replies",
        metavar="N",
        type=positive_int,
        default=None,
        help="replies in a row that are not valid actions before the run fails (default 3)",
    )
    add(
        "--repeat-limit",
        metavar="N",
        type=non_negative_int,
        default=None,
        help="the same action on an unchanged screen this many times ends the run; 0 never (default 3)",
    )
    add(
        "--max-new-tokens",
        metavar="N",
        type=positive_int,
        default=None,
        help="reply length limit in tokens (default 512)",
    )
    add(
        "--temperature",
        metavar="T",
        type=_non_negative,
        default=None,
        help="sampling temperature, 0 for greedy (default 0)",
    )
    add("--no-settle", action="store_true", help="do not wait for the screen to stop changing after acting")
    add(
        "--settle-min",
        metavar="SECONDS",
        type=_non_negative,
        default=None,
        help="seconds to wait at least after acting (default 0.1)",
    )
    add(
        "--settle-max",
        metavar="SECONDS",
        type=positive_seconds,
        default=None,
        help="seconds to wait at most after acting (default 3)",
    )
    add(
        "--history-images",
        metavar="N",
        type=non_negative_int,
        default=None,
        help="earlier screenshots sent to the model (default: the family's)",
    )
    add(
        "--history-image-scale",
        metavar="SCALE",
        type=_fraction,
        default=None,
        help="scale of earlier screenshots, 0.5 for a quarter of the tokens (default 1)",
    )
    add(
        "--token-budget",
        metavar="TOKENS",
        type=positive_int,
        default=None,
        help="drop the oldest screenshots while a prompt's estimate exceeds this (default: no budget)",
    )


def agent_config(args: argparse.Namespace, **fixed: Any) -> Any:
    """The ``AgentConfig`` the flags describe; ``fixed`` fields (``dry_run``, ``confirm``, ``out_dir``) added."""
    from guiagent.agent.history import HistoryPolicy
    from guiagent.agent.settings import AgentConfig

    chosen = {
        "max_steps": args.max_steps,
        "time_limit": args.time_limit,
        "max_invalid_replies": args.max_invalid_replies,
        "repeat_limit": args.repeat_limit,
        "max_new_tokens": args.max_new_tokens,
        "temperature": args.temperature,
        "settle_min": args.settle_min,
        "settle_max": args.settle_max,
    }
    history = {
        "max_images": args.history_images,
        "image_scale": args.history_image_scale,
        "token_budget": args.token_budget,
    }
    settings: dict[str, Any] = {name: value for name, value in chosen.items() if value is not None}
    low = settings.get("settle_min", AgentConfig.settle_min)
    high = settings.get("settle_max", AgentConfig.settle_max)
    if low > high:
        from guiagent.actions.errors import ConfigError

        raise ConfigError(f"--settle-min ({low:g} s) is more than --settle-max ({high:g} s)")
    if args.no_settle:
        settings["settle"] = False
    settings["history"] = HistoryPolicy(**{name: value for name, value in history.items() if value is not None})
    return AgentConfig(**settings, **fixed)

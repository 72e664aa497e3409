"""The ``guiagent`` command line: the top floor, the one place allowed to import every layer.

Each subcommand lives in its own module exposing ``register(subparsers)``; ``main`` wires them up and
turns guiagent's typed errors into a one-line message and an exit code (2 for bad input or a reply
that does not parse, 1 for device/model failures), never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from guiagent.actions.errors import ActionError, ConfigError, GuiAgentError

from . import (
    adb_cmd,
    device_cmd,
    eval_cmd,
    grounding_cmd,
    mcp_cmd,
    parse_cmd,
    prompt_cmd,
    replay_cmd,
    report_cmd,
    run_cmd,
    script_cmd,
)

__all__ = ["build_parser", "main"]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="guiagent",
        description="Vision-language models operating Android phones and desktops.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from . import doctor_cmd

    modules = (
        run_cmd,
        eval_cmd,
        doctor_cmd,
        replay_cmd,
        report_cmd,
        grounding_cmd,
        parse_cmd,
        prompt_cmd,
        device_cmd,
        adb_cmd,
        script_cmd,
        mcp_cmd,
    )
    for module in modules:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["adb"]:  # every argument belongs to adb, even those argparse would take for its own
        args = argparse.Namespace(command="adb", handler=adb_cmd.run_adb, adb_args=given[1:])
    else:
        args = parser.parse_args(given)
    try:
        code: int = args.handler(args)
    except (ActionError, ConfigError) as exc:
        print(f"guiagent {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except GuiAgentError as exc:
        print(f"guiagent {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"guiagent {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())

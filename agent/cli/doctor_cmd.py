"""``guiagent doctor``: one command that says what this machine (and a model server) has, and what to fix.

It checks what breaks GUI agents in practice, in the order a run meets it: the adb binary, server and
devices; the X display, its cookie and how text gets typed; torch, CUDA, transformers and qwen-vl-utils for
in-process models; and, given ``--base-url`` (or ``OPENAI_BASE_URL``, or ``base-url`` in guiagent.toml),
the endpoint: reachable, which models, the image limit, and whether it resizes screenshots. Each line is ✓,
✗ with its fix, or – for something optional that is absent. Exit 1 when any line is ✗.
"""

from __future__ import annotations

import argparse
import os

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import config_file
from .arg_types import port
from .doctor_checks import Check, adb_checks, display_checks, library_checks
from .run_cmd import DEFAULT_MODEL, add_history_option, add_model_options, build_family

__all__ = ["print_checks", "register"]

_MARK = {"ok": ("✓", "green"), "fail": ("✗", "bold red"), "skip": ("–", "dim")}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``doctor`` subcommand."""
    parser = subparsers.add_parser(
        "doctor",
        help="check adb, devices, the display, torch and a model endpoint; say how to fix what is missing",
        description="Check what guiagent needs on this machine: adb and devices, DISPLAY/XAUTHORITY and text "
        "input (XTest or a clipboard tool), torch/CUDA, transformers and qwen-vl-utils; and with --base-url the "
        "model server: reachable, models served, images per request, and whether it resizes screenshots.",
    )
    parser.add_argument("--adb-host", default="127.0.0.1", help="adb server host (default 127.0.0.1)")
    parser.add_argument(
        "--adb-port",
        type=port,
        default=int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")),
        help="adb server port (default $ANDROID_ADB_SERVER_PORT or 5037)",
    )
    add_model_options(parser)
    add_history_option(parser)
    config_file.enable(parser, "doctor", run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    """Run every check and print the table; 1 when anything is broken."""
    from guiagent.agent.console import Waiting, make_console

    console = make_console()
    checks: list[Check] = []
    with Waiting(console) as waiting:
        waiting.start("checking adb and devices…")
        checks += adb_checks(args.adb_host, args.adb_port)
        waiting.start("checking the display…")
        checks += display_checks()
        waiting.start("checking torch and the model libraries…")
        checks += library_checks()
        base_url = args.base_url or os.environ.get("OPENAI_BASE_URL")
        if base_url:
            waiting.start(Text(f"asking {base_url}…"))
            checks += _endpoint(args, base_url)
        else:
            checks.append(
                Check(
                    "endpoint",
                    "skip",
                    "no --base-url given: the model server was not checked",
                    "guiagent doctor --base-url http://localhost:8000/v1 --model NAME",
                )
            )
    print_checks(console, checks)
    return 1 if any(c.verdict == "fail" for c in checks) else 0


def _endpoint(args: argparse.Namespace, base_url: str) -> list[Check]:
    from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend

    from .doctor_endpoint import endpoint_checks

    family = build_family(args, "android")
    api_key = args.api_key if args.api_key is not None else os.environ.get("OPENAI_API_KEY", "EMPTY")
    backend = OpenAICompatibleBackend(
        args.model or DEFAULT_MODEL,
        base_url,
        api_key,
        timeout=args.timeout,
        max_attempts=1,
        image_format=args.image_format,
        extra_body=args.extra_body,
    )
    history = family.default_history_images if args.history_images is None else args.history_images
    try:
        return endpoint_checks(backend, family, api_key, history)
    finally:
        backend.close()


def print_checks(console: Console, checks: list[Check]) -> None:
    """The ✓/✗/– table (plain lines off a terminal), each ✗ with its fix, and a one-line verdict."""
    if console.is_terminal:
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False, title="guiagent doctor", title_justify="left")
        table.add_column("", no_wrap=True)
        table.add_column("check", no_wrap=True, style="bold")
        table.add_column("result", ratio=1, overflow="fold")
        for check in checks:
            mark, style = _MARK[check.verdict]
            result = Text(check.detail)
            if check.fix and check.verdict != "ok":
                result.append("\n→ " + check.fix, style="yellow" if check.verdict == "fail" else "dim")
            table.add_row(Text(mark, style=style), check.name, result)
        console.print(table)
    else:
        console.print(Text("guiagent doctor", style="bold"))
        for check in checks:
            mark, style = _MARK[check.verdict]
            console.print(Text(f"{mark} ", style=style) + Text(f"{check.name}: ", style="bold") + Text(check.detail))
            if check.fix and check.verdict != "ok":
                console.print(Text(f"    {'fix' if check.verdict == 'fail' else 'to set up'}: {check.fix}"))
    failed = sum(c.verdict == "fail" for c in checks)
    if failed:
        console.print(Text(f"{failed} problem(s) found: see the ✗ lines and their fixes.", style="bold red"))
    else:
        console.print(Text("Nothing is broken: ✓ works, – is optional and absent.", style="bold green"))

"""``guiagent parse`` and ``guiagent families``: see what a model reply means before trusting a model."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from guiagent.actions.errors import ConfigError
from guiagent.actions.families import FAMILIES, get_family
from guiagent.actions.geometry import Size

__all__ = ["add_pixel_limits", "family_options", "register", "screen_size"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``parse`` and ``families`` subcommands."""
    parse = subparsers.add_parser(
        "parse",
        help="parse a model reply into device-space actions",
        description="Parse a model reply and print its actions in device pixels as a JSON array.",
    )
    parse.add_argument("--family", required=True, help="model family (see `guiagent families`)")
    parse.add_argument("--screen", required=True, type=screen_size, help="device screen size, e.g. 1080x2400")
    add_pixel_limits(parse)
    parse.add_argument("text", metavar="TEXT", help="the reply text, or - to read it from stdin")
    parse.set_defaults(handler=run_parse)

    families = subparsers.add_parser("families", help="list model families and their coordinate spaces")
    families.add_argument("--json", action="store_true", help="print JSON instead of a table")
    families.set_defaults(handler=run_families)


def screen_size(text: str) -> Size:
    """argparse type for ``WIDTHxHEIGHT`` that keeps guiagent's explanation in the usage error."""
    try:
        return Size.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_pixel_limits(parser: argparse.ArgumentParser) -> None:
    """``--min-pixels``/``--max-pixels``, shared by every command that builds a family."""
    parser.add_argument("--min-pixels", type=int, default=None, help="smallest image area the model sees")
    parser.add_argument("--max-pixels", type=int, default=None, help="largest image area the model sees")


def family_options(args: argparse.Namespace) -> dict[str, Any]:
    """The family options given on the command line (only those set)."""
    options: dict[str, Any] = {}
    if args.min_pixels is not None:
        options["min_pixels"] = args.min_pixels
    if args.max_pixels is not None:
        options["max_pixels"] = args.max_pixels
    return options


def run_parse(args: argparse.Namespace) -> int:
    """Print the parsed actions as JSON; errors propagate to ``main`` (stderr, exit 2)."""
    text = sys.stdin.read() if args.text == "-" else args.text
    family = get_family(args.family, **family_options(args))
    _, actions = family.parse_to_device(text, args.screen)
    print(json.dumps([a.to_json_dict() for a in actions], ensure_ascii=False))
    return 0


def run_families(args: argparse.Namespace) -> int:
    """List every family: coordinate space, image factor, pixel limits, image order, history and sources."""
    rows = [family_row(cls()) for cls in FAMILIES.values()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    columns = ("name", "coordinates", "factor", "min_pixels", "max_pixels", "platform", "image_order", "history")
    table = Table(title="Model families")
    for column in columns:
        table.add_column(column.replace("_", " "), no_wrap=True)
    for row in rows:
        table.add_row(*(Text(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c])) for c in columns))
    console = Console(width=None if sys.stdout.isatty() else 160, highlight=False)
    console.print(table)
    for row in rows:
        console.print(Text(f"{row['name']}: {row['summary']}", style="bold"))
        if row["source"]:
            console.print(Text(f"  source: {row['source']}"))
        if row["choices"]:
            console.print(Text(f"  choices: {row['choices']}"))
    return 0


def family_row(family: Any) -> dict[str, Any]:
    """What ``guiagent families`` says of one family, all of it read from the family object itself."""
    cls = type(family)
    low, high = family.pixel_limits
    history = family.default_history_images
    return {
        "name": cls.name,
        "coordinates": cls.space_kind,
        "factor": cls.factor,
        "min_pixels": low,
        "max_pixels": high,
        "platform": family.active_platform,
        "image_order": _image_order(family),
        "history": f"text + last {history} screenshots" if history else "text",
        "summary": cls.summary,
        "source": cls.source,
        "choices": cls.choices,
    }


def _image_order(family: Any) -> str:
    """Whether the family's user turns show the screenshot before or after the task, from its own render."""
    from guiagent.actions.messages import ImageSlot

    parts = [
        part for m in family.render("Open the Settings app", Size(1080, 2400)) if m.role == "user" for part in m.content
    ]
    kinds = [isinstance(part, ImageSlot) for part in parts]
    if True not in kinds:
        return "no image"
    return "image first" if kinds[0] else "text first"

"""``guiagent.toml`` / ``--config FILE``: a long command line saved in a file, flags on the command line winning.

The keys are the commands' long flag names, without the dashes, so a line of the file reads like the flag
it stands for::

    # guiagent.toml
    base-url = "http://localhost:8000/v1"    # top level: every command that has the flag
    model = "Qwen/Qwen2.5-VL-7B-Instruct"
    device = "android"

    [run]                                    # only for guiagent run (likewise [eval], [replay], [doctor])
    max-steps = 50
    temperature = 0.2
    dry-run = true
    secret = ["pin"]
    extra-body = { top_k = 1, repetition_penalty = 1.05 }

The file is ``--config FILE`` or, without it, ``guiagent.toml`` in the current folder if there is one. A
top-level key that this command does not have but another one does (``max-steps`` while running
``eval``) is left for that command; a key no command has, a section no command is named, a value of the
wrong kind, or a value its flag would refuse is a ``ConfigError`` naming the file, the line and the field.

How "given on the command line" is known: ``enable`` wraps each flag's default in ``_Unset`` before
parsing, so after parsing a value that is still ``_Unset`` was not typed (argparse cannot say this itself:
``--max-steps 30`` and no flag at all both give 30). Repeatable flags keep their list default, and were
given when argparse replaced it with a new list. Required flags become optional for argparse and are
checked after the file is read, so ``device = "virtual"`` in the file satisfies ``--device``.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["CONFIG_FILE", "enable", "find_line", "load_settings"]

CONFIG_FILE = "guiagent.toml"
_FLAGS: dict[str, set[str]] = {}
"""Every command's flag names (filled by ``enable``), to tell another command's key from a typo."""

Handler = Callable[[argparse.Namespace], int]


class _Unset:
    """A flag's default, marking that the flag was not given on the command line."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:  # what --help shows for %(default)s
        return repr(self.value)

    def __str__(self) -> str:
        return str(self.value)


def enable(parser: argparse.ArgumentParser, command: str, handler: Handler) -> None:
    """Add ``--config FILE`` to ``parser`` and run ``handler`` on the flags merged with the file.

    Call it once, after every flag of the command has been added, instead of ``set_defaults(handler=...)``.
    """
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"read flags from this TOML file (default: ./{CONFIG_FILE} if it exists); flags typed here win",
    )
    actions: dict[str, argparse.Action] = {}
    required: list[str] = []
    for action in parser._actions:  # argparse has no public list of a parser's flags
        long = next((o[2:] for o in action.option_strings if o.startswith("--")), None)
        if long is None or long in ("help", "config"):
            continue
        actions[long] = action
        if action.required:
            action.required = False
            required.append(long)
        if not isinstance(action, argparse._AppendAction):
            action.default = _Unset(action.default)
    _FLAGS[command] = set(actions)
    parser.set_defaults(handler=functools.partial(_merged, handler, command, actions, tuple(required)))


def _merged(
    handler: Handler, command: str, actions: dict[str, argparse.Action], required: tuple[str, ...], args: Any
) -> int:
    path = Path(args.config) if args.config else Path(CONFIG_FILE)
    settings: dict[str, tuple[Any, int]] = {}
    if args.config or path.is_file():
        settings = load_settings(path, command)
        from guiagent.agent.console import make_console, print_path

        print_path(make_console(), path, "settings: ")
    for name, action in actions.items():
        current = getattr(args, action.dest, None)
        if isinstance(action, argparse._AppendAction):
            given = current is not action.default  # argparse appends to a copy: a new list means typed
        else:
            given = not isinstance(current, _Unset)
        if given:
            continue
        if name in settings:
            value, line = settings[name]
            setattr(args, action.dest, _convert(action, name, value, f"{path}:{line}"))
        elif isinstance(current, _Unset):
            setattr(args, action.dest, _default(action, current.value))
    missing = [f"--{name}" for name in required if getattr(args, actions[name].dest, None) is None]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} is required: give it on the command line or in {CONFIG_FILE} "
            f"(e.g. {missing[0][2:]} = ...)"
        )
    return handler(args)


def _default(action: argparse.Action, value: Any) -> Any:
    """A default as argparse would have given it (string defaults pass through the flag's type)."""
    if isinstance(value, str) and action.type is not None and callable(action.type):
        return action.type(value)
    return value


def load_settings(path: Path, command: str) -> dict[str, tuple[Any, int]]:
    """The file's values for ``command``, each with its line: its own section over the top level.

    Raises:
        ConfigError: the file cannot be read, is not TOML, or holds a key or section no command has.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(path, text, exc)) from None
    known = set().union(*_FLAGS.values()) if _FLAGS else set()
    top: dict[str, tuple[Any, int]] = {}
    own: dict[str, tuple[Any, int]] = {}
    for key, value in data.items():
        if key in _FLAGS and isinstance(value, dict) and key not in known:
            for name, inner in value.items():
                line = find_line(text, name, key)
                if name not in _FLAGS[key]:
                    raise ConfigError(_unknown(path, line, name, _FLAGS[key], f"[{key}] (guiagent {key})"))
                if key == command:
                    own[name] = (inner, line)
            continue
        line = find_line(text, key)
        if key not in known:
            what = "section" if isinstance(value, dict) else "field"
            raise ConfigError(_unknown(path, line, key, known | set(_FLAGS), "the top level", what))
        if key in _FLAGS.get(command, set()):
            top[key] = (value, line)
    return {**top, **own}


def _unknown(path: Path, line: int, key: str, choices: set[str], where: str, what: str = "field") -> str:
    close = difflib.get_close_matches(key, sorted(choices), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{path}:{line}: unknown {what} {key!r} in {where}: keys are the long flag names without '--'{hint}"


def _convert(action: argparse.Action, name: str, value: Any, where: str) -> Any:
    """A file value as the flag would have parsed it; a wrong kind or a refused value names where it is."""

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{where}: {name}: {message}")

    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if not isinstance(value, bool):
            raise fail(f"must be true or false, got {value!r}")
        return value if isinstance(action, argparse._StoreTrueAction) else not value
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_one(action, item, fail) for item in items]
    if value is True and action.const is not None:  # ``confirm = true``, as the bare flag ``--confirm``
        return action.const
    return _one(action, value, fail)


def _one(action: argparse.Action, value: Any, fail: Callable[[str], ConfigError]) -> Any:
    if isinstance(value, dict):
        if not getattr(action.type, "accepts_table", False):
            raise fail(f"takes a single value, not a table {value!r}")
        value = json.dumps(value)
    elif isinstance(value, (bool, list)) or not isinstance(value, (str, int, float)):
        raise fail(f"takes a single value (text or a number), got {value!r}")
    text = str(value)
    try:
        converted = action.type(text) if callable(action.type) else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        raise fail(str(exc) or f"invalid value {value!r}") from None
    if action.choices is not None and converted not in action.choices:
        raise fail(f"must be one of {', '.join(map(str, action.choices))}, got {value!r}")
    return converted


_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _key(*parts: str) -> re.Pattern[str]:
    """A line setting the (dotted) key ``parts``, bare or quoted, with any spacing."""
    dotted = r"\s*\.\s*".join(rf"""["']?{re.escape(part)}["']?""" for part in parts)
    return re.compile(rf"^\s*{dotted}\s*=")


def find_line(text: str, key: str, section: str = "") -> int:
    """The 1-based line where ``key`` is set in ``section`` ("" for the top level); 1 if it cannot be told.

    tomllib keeps no positions, so the line is found again in the text: under the section's ``[header]``,
    or as a dotted key (``run.max-steps = 3``) above every header.
    """
    plain = _key(key)
    dotted = _key(section, key) if section else None
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            current = header.group(1).strip().strip("\"'")
        elif current == section and plain.match(line):
            return number
        elif current == "" and dotted is not None and dotted.match(line):
            return number
    return 1


def _syntax_error(path: Path, text: str, exc: Exception) -> str:
    message = str(exc)
    found = re.search(r"at line (\d+)", message)
    if not found:
        return f"{path}: not valid TOML: {message}"
    line = int(found.group(1))
    lines = text.splitlines()
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    key = re.match(r"\s*([A-Za-z0-9_-]+)", source)
    field = f" {key.group(1)}:" if key else ""
    return f"{path}:{line}:{field} not valid TOML: {message} — the line reads {source.strip()!r}"

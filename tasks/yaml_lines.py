"""YAML with line numbers, so a task file error can say "tasks/wifi.yaml, line 12, field success.0.equals".

PyYAML's composer keeps each node's start mark; pydantic reports errors as a path of keys and indexes.
Walking the node tree along that path finds the line of the offending value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guiagent.actions.errors import TaskFileError

__all__ = ["load_yaml", "raise_with_line", "resolve"]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, with every failure to build a value reported as a ``ConstructorError``.

    An explicit tag on a value it cannot take (``!!int text``, ``!!timestamp soon``, ``!!bool maybe``) makes
    PyYAML's constructors raise plain ``ValueError``, ``KeyError``, ``AttributeError``... with no mark; here
    they carry the start mark of the node that failed, so the error names its line like any other.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            shown = f" {str(node.value)[:60]!r}" if isinstance(node, yaml.ScalarNode) else ""
            problem = f"{tag} cannot take{shown}: {type(exc).__name__}: {exc}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
"""Line breaks as YAML counts them, so a line found from a position matches the lines in PyYAML's marks."""


def load_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML file and its node tree (for line lookups).

    Raises:
        TaskFileError: the file is missing, unreadable, not UTF-8, or not valid YAML (with the line of the
            problem).
    """
    text = _read_text(path)
    try:
        return _parse(text)
    except yaml.YAMLError as exc:
        line = _error_line(exc, text)
        where = f", line {line}" if line else ""
        raise TaskFileError(f"{path}{where}: not valid YAML ({_problem(exc)})", str(path), line) from None
    except RecursionError:
        raise TaskFileError(f"{path}, line 1: not valid YAML (nested too deeply)", str(path), 1) from None


def _parse(text: str) -> tuple[Any, yaml.Node | None]:
    """Data and node tree from one parse (the data is built from the very nodes line lookups walk)."""
    loader = _Loader(text)  # checks every character first: may raise a ReaderError
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _read_text(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 are an error naming their line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read ({exc.strerror or exc})", str(path)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TaskFileError(
            f"{path}, line {line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start}); save the file "
            "as UTF-8",
            str(path),
            line,
        ) from None


def _error_line(exc: yaml.YAMLError, text: str) -> int | None:
    """The 1-based line a PyYAML error points at: its mark's, or for a reader error, its position's."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        return len(_BREAKS.findall(text, 0, position)) + 1
    return None


def _problem(exc: yaml.YAMLError) -> str:
    """What PyYAML found wrong, on one line and without its own "in <unicode string>" location."""
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character U+{exc.character:04X} is not allowed in YAML; delete it, or escape it in double quotes"
    return _one_line(str(getattr(exc, "problem", None) or exc))


def _one_line(message: str) -> str:
    """``message`` with its line breaks and runs of spaces folded to single spaces."""
    return " ".join(message.split())


def resolve(node: yaml.Node | None, loc: Sequence[str | int]) -> tuple[int | None, list[str | int]]:
    """The 1-based line of the value at ``loc`` and the path as the file spells it.

    pydantic puts union-member tags (``answer``, ``function-after``...) into error paths; a path element
    that is not in the file but whose successor is, is such a tag and is left out.
    """
    if node is None:
        return None, list(loc)
    line = node.start_mark.line + 1
    kept: list[str | int] = []
    parts = list(loc)
    for index, key in enumerate(parts):
        if isinstance(node, yaml.MappingNode):
            keys = {getattr(k, "value", None): v for k, v in node.value}
            if str(key) in keys:
                node = keys[str(key)]
                line = node.start_mark.line + 1
                kept.append(key)
                continue
            following = parts[index + 1] if index + 1 < len(parts) else None
            if following is not None and str(following) in keys:
                continue  # a tag pydantic added
            kept.append(key)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
            kept.append(key)
        elif not isinstance(key, int) and index + 1 < len(parts):
            continue
        else:
            kept.append(key)
    return line, kept


def raise_with_line(
    path: Path, node: yaml.Node | None, error: ValidationError, prefix: Sequence[str | int] = ()
) -> None:
    """Re-raise a pydantic error as a ``TaskFileError`` naming the file, the line and the field."""
    first = error.errors()[0]
    loc: list[str | int] = []
    for part in (*prefix, *first.get("loc", ())):
        # keyed unions tag a member with its defining key, so "query.query" means the field "query"
        if isinstance(part, (str, int)) and not (loc and isinstance(part, str) and loc[-1] == part):
            loc.append(part)
    line, kept = resolve(node, loc)
    field = ".".join(str(p) for p in kept)
    where = f", line {line}" if line else ""
    message = f"{path}{where}: field {field or '(top level)'}: {_one_line(str(first.get('msg')))}"
    raise TaskFileError(message, str(path), line, field) from None

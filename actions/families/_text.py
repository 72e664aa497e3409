"""Reading structure out of model text: fences, JSON objects, Python literals, call syntax, numbers.

Model replies are data. Nothing here evaluates them: JSON goes through ``json``, Python-looking literals
through ``ast.literal_eval`` (constants only), calls through ``ast.parse`` whose tree is walked by hand.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ActionParseError

__all__ = [
    "Call",
    "as_number",
    "as_point",
    "find_json_objects",
    "find_literal_lists",
    "find_literal_objects",
    "in_model_terms",
    "numbers_in",
    "parse_call",
    "point_in_text",
    "strip_fences",
]

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n?|```")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def strip_fences(text: str) -> str:
    """Remove markdown code fences (```json ... ```) wherever they stand."""
    return _FENCE.sub("", text)


def _balanced_spans(text: str, opener: str = "{", closer: str = "}") -> list[tuple[int, int, bool]]:
    """``(start, end, closed)`` of top-level bracketed spans, skipping brackets inside quoted strings.

    An unclosed span (the text ends inside it) is reported with ``closed=False`` so callers can say
    "truncated" instead of "no action".
    """
    spans: list[tuple[int, int, bool]] = []
    depth = 0
    start = -1
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'" and depth > 0:
            quote = ch
        elif ch == opener:
            if depth == 0:
                start = i
            depth += 1
        elif ch == closer and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1, True))
    if depth > 0:
        spans.append((start, len(text), False))
    return spans


def find_json_objects(text: str) -> tuple[list[dict[str, Any]], bool]:
    """Every top-level JSON object in ``text``, and whether one was cut off before its end.

    Also accepts objects whose quotes were escaped once more (``{\\"name\\": ...}``, as replies look when
    copied out of a log).
    """
    found: list[dict[str, Any]] = []
    truncated = False
    for start, end, closed in _balanced_spans(text):
        chunk = text[start:end]
        if not closed:
            truncated = True
            continue
        value = _loads_lenient(chunk)
        if isinstance(value, dict):
            found.append(value)
    if not found and '\\"' in text:
        return find_json_objects(text.replace('\\"', '"'))
    return found, truncated


def _loads_lenient(chunk: str) -> Any:
    for candidate in (chunk, chunk.replace('\\"', '"')):
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return None


def find_literal_objects(text: str) -> tuple[list[dict[Any, Any]], bool]:
    """Every top-level dict written as a Python literal or JSON (``{'action': 'CLICK', ...}``).

    Uses ``ast.literal_eval``: constants, lists, dicts, ``None``/``True``/``False`` only.
    """
    found: list[dict[Any, Any]] = []
    truncated = False
    for start, end, closed in _balanced_spans(text):
        if not closed:
            truncated = True
            continue
        value = _literal(text[start:end])
        if isinstance(value, dict):
            found.append(value)
    return found, truncated


def find_literal_lists(text: str) -> list[list[Any]]:
    """Every top-level list written as a Python literal or JSON (``[0.49, 0.42]``), in order."""
    found: list[list[Any]] = []
    for start, end, closed in _balanced_spans(text, "[", "]"):
        if closed:
            value = _literal(text[start:end])
            if isinstance(value, list):
                found.append(value)
    return found


_JSON_WORDS = {"null": None, "none": None, "true": True, "false": False}


_ESCAPE = re.compile(r"\\([0-7]{1,3}|.)", re.DOTALL)
_VALID_ESCAPES = frozenset("\n\\'\"abfnrtvxNuU")


def _quiet_escapes(source: str) -> str:
    """Double the backslash of escapes Python does not know (``"\\p"``, octal above ``\\377``): no warning.

    Python reads an unknown escape as a backslash and the character but warns while parsing (an error
    under ``-W error``); warning filters are process-wide, so suppressing them would not be thread-safe.
    """
    if "\\" not in source:
        return source

    def fix(match: re.Match[str]) -> str:
        escape = match.group(1)
        known = escape in _VALID_ESCAPES or (escape[0] in "01234567" and int(escape, 8) <= 0o377)
        return match.group(0) if known else "\\\\" + escape

    return _ESCAPE.sub(fix, source)


_NUMBER_THEN_KEYWORD = re.compile(r"\d(?:and|else|for|if|in|is|not|or)")
"""``1if``: Python's tokenizer warns ("invalid decimal literal"); such text is left to the fallbacks."""


def _literal(chunk: str) -> Any:
    """A Python/JSON literal (also Python quoting mixed with ``null``/``true``), or ``None`` if unreadable."""
    chunk = _quiet_escapes(chunk)
    if _NUMBER_THEN_KEYWORD.search(chunk):
        return _loads_lenient(chunk)
    try:
        return ast.literal_eval(chunk)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        tree = ast.parse(chunk.strip(), mode="eval")
        for node in ast.walk(tree):
            for name, child in ast.iter_fields(node):
                if isinstance(child, ast.Name) and child.id.lower() in _JSON_WORDS:
                    setattr(node, name, ast.Constant(_JSON_WORDS[child.id.lower()]))
                elif isinstance(child, list):
                    child[:] = [
                        ast.Constant(_JSON_WORDS[c.id.lower()])
                        if isinstance(c, ast.Name) and c.id.lower() in _JSON_WORDS
                        else c
                        for c in child
                    ]
        return ast.literal_eval(tree.body)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    return _loads_lenient(chunk.replace("None", "null"))  # Python's None in otherwise-JSON text


@dataclass(frozen=True)
class Call:
    """A function call read from text: ``click(start_box='(10,20)')``."""

    name: str
    kwargs: dict[str, str]
    args: tuple[str, ...] = ()


_CALL_HEAD = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def parse_call(text: str, raw: str | None = None) -> Call:
    """Read one call with string/number arguments, tolerating the quoting mistakes models make.

    Tries Python syntax first (``ast.parse``, walking the tree; nothing is evaluated), then the same with
    one level of quote escaping removed (``click(start_box=\\'(1,2)\\')``, a reply copied from a log). When
    the arguments are still not valid Python — an unescaped quote inside ``content='it's'`` — falls back
    to reading ``name='...'`` pairs by hand, taking the last quote before the next ``, name=`` or the end.

    Args:
        text: the call.
        raw: the whole reply, carried by errors (defaults to ``text``).

    Raises:
        ActionParseError: not a call at all, or arguments that are not constants.
    """
    if raw is not None:
        try:
            return parse_call(text)
        except ActionParseError as exc:
            raise ActionParseError(exc.reason, raw) from None
    source = text.strip()
    head = _CALL_HEAD.match(source)
    if not head:
        raise ActionParseError(f"expected an action call like click(...), got {source[:60]!r}", text)
    if not source.endswith(")"):
        source += ")"
    node = _call_node(source)
    if node is None and ("\\'" in source or '\\"' in source):
        # A reply copied out of a log: click(start_box=\'(1,2)\') has one level of escaping too many.
        unescaped = source.replace("\\'", "'").replace('\\"', '"')
        node = _call_node(unescaped)
        if node is None:
            source = unescaped
    if node is None or not isinstance(node.func, ast.Name):
        return _parse_call_by_hand(head.group(1), source[head.end() : -1], text)
    kwargs: dict[str, str] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ActionParseError("**kwargs are not allowed in an action", text)
        kwargs[kw.arg] = _constant_text(kw.value, text)
    args = tuple(_constant_text(a, text) for a in node.args)
    return Call(node.func.id, kwargs, args)


def _call_node(source: str) -> ast.Call | None:
    """The call node of ``source`` if it is exactly one plain ``name(...)`` call, else ``None``."""
    if _NUMBER_THEN_KEYWORD.search(source):
        return None
    try:
        node = ast.parse(_quiet_escapes(source), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node
    return None


def _constant_text(node: ast.expr, raw: str) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)):
        return str(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + _constant_text(node.operand, raw)
    if isinstance(node, (ast.Tuple, ast.List)):
        return "(" + ",".join(_constant_text(e, raw) for e in node.elts) + ")"
    raise ActionParseError("action arguments must be quoted strings or numbers", raw)


_KW_START = re.compile(r"(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")


def _parse_call_by_hand(name: str, inner: str, raw: str) -> Call:
    """Fallback for arguments Python cannot read: ``key='value'`` pairs split at ``, key=``."""
    starts = list(_KW_START.finditer(inner))
    if not starts:
        if inner.strip():
            raise ActionParseError(f"could not read the arguments of {name}(...)", raw)
        return Call(name, {})
    kwargs: dict[str, str] = {}
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(inner)
        value = inner[match.end() : end].strip()
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = value[1:-1]
        elif value[:1] in ("'", '"'):
            value = value[1:]
        kwargs[match.group(1)] = _unescape(value)
    return Call(name, kwargs)


def _unescape(value: str) -> str:
    return value.replace("\\'", "'").replace('\\"', '"').replace("\\n", "\n")


def in_model_terms(reason: str, names: Mapping[str, str]) -> str:
    """``reason`` with each of our words in ``names`` (whole words) replaced by the model's word for it.

    A refusal goes back to the model, which never saw guiagent's field names: ``amount: Input should be
    less than or equal to 100`` means nothing to a model that wrote ``"pixels": 500``. Families map our
    fields (``amount``, ``duration``, ``x``...) to their argument names; longer entries win, in one pass.
    """
    if not names:
        return reason
    words = sorted(names, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")
    return pattern.sub(lambda match: names[match.group(0)], reason)


def numbers_in(text: str) -> list[float]:
    """All numbers written in ``text``, in order."""
    return [float(m) for m in _NUMBER.findall(text)]


def as_number(value: Any, what: str, raw: str) -> float:
    """A JSON/literal value that must be a finite number (numeric strings accepted; booleans, NaN, ∞ refused)."""
    if isinstance(value, bool):
        raise ActionParseError(f"{what} must be a number, got {value!r}", raw)
    number: float | None = None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise ActionParseError(f"{what} is too large a number", raw) from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if number is None:
        raise ActionParseError(f"{what} must be a number, got {value!r}", raw)
    if not math.isfinite(number):  # JSON's NaN/Infinity: refused here, in the model's words, not by a field check
        raise ActionParseError(f"{what} must be a finite number, got {value!r}", raw)
    return number


def as_point(value: Any, what: str, raw: str) -> tuple[float, float]:
    """A value that must be an ``[x, y]`` pair (also ``"[x, y]"``/``"(x, y)"`` strings and boxes → centre)."""
    if isinstance(value, str):
        nums = numbers_in(value)
        value = nums
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and isinstance(value[0], (list, tuple)):
            value = value[0]
        if len(value) == 2 and all(isinstance(v, (list, tuple)) for v in value):
            value = [*value[0], *value[1]]
        if len(value) == 2:
            return as_number(value[0], f"{what}[0]", raw), as_number(value[1], f"{what}[1]", raw)
        if len(value) == 4:
            x1, y1, x2, y2 = (as_number(v, what, raw) for v in value)
            return (x1 + x2) / 2, (y1 + y2) / 2
    raise ActionParseError(f"{what} must be a point [x, y], got {value!r}", raw)


_TAGS = re.compile(
    r"<\|object_ref_start\|>.*?<\|object_ref_end\|>|<\|(?:box|object_ref|quad)_(?:start|end)\|>|</?(?:point|bbox)>",
    re.DOTALL,
)
_COORD_NUM = r"-?(?:\d+(?:\.\d*)?|\.\d+)"
_GROUP = re.compile(rf"[(\[]\s*({_COORD_NUM}(?:\s*[,\s]\s*{_COORD_NUM})*)\s*[)\]]")
_COORD_ONLY = re.compile(r"^[\d\s.,()\[\]+-]*$")
_COORD_TAIL = re.compile(r"[(\[][\d\s.,()\[\]+-]*$")


def point_in_text(value: str, what: str, raw: str, *, label: bool = False) -> tuple[float, float]:
    """The point a coordinate string names; a box (two corners) becomes its centre.

    Reads every way Qwen2-VL-based models write a place: ``(x,y)``, ``(x1,y1),(x2,y2)``, ``(x1,y1,x2,y2)``,
    ``[[x, y]]``, ``[x1, y1, x2, y2]``, ``<point>x y</point>``, ``<bbox>x1 y1 x2 y2</bbox>``, each optionally
    wrapped in ``<|box_start|>``/``<|box_end|>``. With ``label=True`` free text may come first (Qwen2-VL
    grounding with special tokens stripped: ``search box(12,40),(300,88)``); otherwise anything but
    numbers and brackets is refused, so an echoed template (``(x1,y1)``) or ``'='`` never becomes a point.

    Raises:
        ActionParseError: not exactly one point or one box.
    """
    text = _TAGS.sub(" ", value).strip().strip("'\"").strip()
    if label:
        tail = _COORD_TAIL.search(text)
        text = tail.group(0) if tail else ""
    if not text or not _COORD_ONLY.match(text) or not any(c.isdigit() for c in text):
        raise ActionParseError(f"{what} must be a point like (x,y) or a box (x1,y1),(x2,y2), got {value[:60]!r}", raw)
    groups = [numbers_in(g) for g in _GROUP.findall(text)] or [numbers_in(text)]
    if label and len(groups) > 2:
        groups = groups[-2:] if all(len(g) == 2 for g in groups[-2:]) else groups[-1:]
    flat = [n for g in groups for n in g]
    if len(groups) <= 2 and len(flat) == 2:
        return flat[0], flat[1]
    if len(groups) <= 2 and len(flat) == 4:
        x1, y1, x2, y2 = flat
        return (x1 + x2) / 2, (y1 + y2) / 2
    raise ActionParseError(f"{what} must be a point like (x,y) or a box (x1,y1),(x2,y2), got {value[:60]!r}", raw)

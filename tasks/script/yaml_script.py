"""Script files: a flow of steps in YAML for people who do not write Python.

::

    name: Save a note and tell Bob
    vars:
      note: Buy oat milk
    steps:
      - open_app: Notes
      - tap: the New note button
      - type: {text: "${note}", into: the note text field}
      - tap: the Save button
      - assert_visible: ${note}
      - open_app: Messages
      - tap: the conversation with Bob Smith
      - type: {text: "<secret:pin> is the code", into: the message field}
      - tap: the Send button
      - wait_for: {what: "${note}", timeout: 10}
      - query: {ask: the number of unread messages, as: unread, schema: integer}
      - key: home

Every step is a one-key mapping; the key names the step (``tap``, ``double_tap``, ``long_press``, ``type``,
``assert_visible``, ``wait_for``, ``query``, ``scroll_until``, ``scroll``, ``swipe``, ``open_app``, ``key``,
``wait``, ``act``), and the short forms (``type: TEXT``, ``wait_for: TEXT``, ``scroll_until: TEXT``) take the
defaults. ``${name}`` is a variable: from ``vars``, from ``--var name=value`` (which wins), or from an
earlier ``query``'s ``as``. ``<secret:name>`` is allowed in typed text only and comes from
``$GUIAGENT_SECRET_NAME``; it never reaches a model, a log or a file. A query's ``schema`` is ``number``,
``integer``, ``string``, ``boolean``, ``list[...]`` of those, or a mapping of field names to those.

Errors name the file, the line and the field, as task files do (``tasks/yaml_lines.py``), and are found
before anything runs: unknown steps and fields, a variable used before it is defined, a secret outside
typed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, create_model, field_validator

from guiagent.actions.errors import TaskFileError
from guiagent.actions.types import Action
from guiagent.agent.trajectory import secret_names

from ..keyed import key_discriminator
from ..yaml_lines import load_yaml, raise_with_line, resolve
from .cache import cache_path_for

__all__ = ["STEP_KEYS", "Script", "ScriptFile", "load_script", "schema_type", "substitute"]

_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCALARS: dict[str, type] = {"number": float, "integer": int, "string": str, "boolean": bool}
_LIST = re.compile(r"^list\[(\w+)\]$")
Direction = Literal["up", "down", "left", "right"]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _form(value: Any) -> str:
    return "mapping" if isinstance(value, (dict, BaseModel)) else "short"


_SHAPE = Discriminator(_form)
"""Tells a step's short form (``type: TEXT``) from its mapping (``type: {text, into}``) by the value's shape,
so an error speaks of the form the author wrote rather than of the other one."""


class TapStep(_Strict):
    """Tap the element described."""

    tap: Text


class DoubleTapStep(_Strict):
    """Double-tap the element described."""

    double_tap: Text


class LongPressArgs(_Strict):
    target: Text
    duration: Annotated[float, Field(gt=0, le=60)] = 1.0


class LongPressStep(_Strict):
    """Touch and hold the element described (``long_press: TEXT`` holds one second)."""

    long_press: Annotated[Annotated[Text, Tag("short")] | Annotated[LongPressArgs, Tag("mapping")], _SHAPE]


class TypeArgs(_Strict):
    text: Text
    into: Text | None = None


class TypeStep(_Strict):
    """Type text, into the field described when ``into`` is given (``type: TEXT`` types where the focus is)."""

    type: Annotated[Annotated[Text, Tag("short")] | Annotated[TypeArgs, Tag("mapping")], _SHAPE]


class AssertVisibleStep(_Strict):
    """Stop the script unless this is on the screen."""

    assert_visible: Text


class WaitForArgs(_Strict):
    what: Text
    timeout: Annotated[float, Field(gt=0, le=3600)] = 30.0


class WaitForStep(_Strict):
    """Wait until this is on the screen (``wait_for: TEXT`` waits 30 s at most)."""

    wait_for: Annotated[Annotated[Text, Tag("short")] | Annotated[WaitForArgs, Tag("mapping")], _SHAPE]


def schema_type(spec: Any) -> Any:
    """The Python type a script's ``schema`` names (``number`` → float, ``{total: number}`` → a model).

    Raises:
        ValueError: the spec names no known type.
    """
    if isinstance(spec, str):
        found = _LIST.match(spec.strip())
        if found and found.group(1) in _SCALARS:
            item: Any = _SCALARS[found.group(1)]
            return list[item]  # type: ignore[valid-type]
        if spec.strip() in _SCALARS:
            return _SCALARS[spec.strip()]
    elif isinstance(spec, dict) and spec and all(isinstance(k, str) and _NAME.match(k) for k in spec):
        fields: dict[str, Any] = {name: (schema_type(value), ...) for name, value in spec.items()}
        return create_model("Answer", **fields)
    raise ValueError(
        f"{spec!r} is not a schema: use number, integer, string, boolean, list[...] of those, "
        "or a mapping of field names to those"
    )


class QueryArgs(_Strict):
    ask: Text
    as_: str = Field(alias="as")
    schema_: Any = Field(default="string", alias="schema")

    @field_validator("as_")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be a variable name: letters, digits and _, not starting with a digit")
        return value

    @field_validator("schema_")
    @classmethod
    def _known_schema(cls, value: Any) -> Any:
        schema_type(value)
        return value


class QueryStep(_Strict):
    """Read typed data off the screen into a variable."""

    query: QueryArgs


class ScrollUntilArgs(_Strict):
    what: Text
    direction: Direction = "down"
    max_swipes: Annotated[int, Field(ge=1, le=100)] = 10
    on: Text | None = None


class ScrollUntilStep(_Strict):
    """Scroll until this shows (``scroll_until: TEXT`` scrolls down, 10 times at most)."""

    scroll_until: Annotated[Annotated[Text, Tag("short")] | Annotated[ScrollUntilArgs, Tag("mapping")], _SHAPE]


class ScrollArgs(_Strict):
    direction: Direction = "down"
    on: Text | None = None
    amount: Annotated[int, Field(ge=1, le=100)] = 5


class ScrollStep(_Strict):
    """Scroll the content (``down`` shows what is below)."""

    scroll: Annotated[Annotated[Direction, Tag("short")] | Annotated[ScrollArgs, Tag("mapping")], _SHAPE]


class SwipeArgs(_Strict):
    direction: Direction = "up"
    on: Text | None = None
    distance: Annotated[float, Field(gt=0, le=1)] = 0.5


class SwipeStep(_Strict):
    """Swipe a finger (``up`` moves the content up)."""

    swipe: Annotated[Annotated[Direction, Tag("short")] | Annotated[SwipeArgs, Tag("mapping")], _SHAPE]


class OpenAppStep(_Strict):
    """Open an app by its label or package name."""

    open_app: Text


class KeyStep(_Strict):
    """Press a key or a chord (``enter``, ``ctrl+a``, ``[ctrl, c]``; ``back``, ``home`` on phones)."""

    key: Text | Annotated[list[Text], Field(min_length=1, max_length=6)]


class WaitStep(_Strict):
    """Pause (prefer ``wait_for``)."""

    wait: Annotated[float, Field(ge=0, le=600)]


class ActStep(_Strict):
    """One action in device pixels, performed as written: no description, no cache, no verification."""

    act: Action


STEP_KEYS = (
    "tap",
    "double_tap",
    "long_press",
    "type",
    "assert_visible",
    "wait_for",
    "query",
    "scroll_until",
    "scroll",
    "swipe",
    "open_app",
    "key",
    "wait",
    "act",
)
ScriptStep = Annotated[
    Annotated[TapStep, Tag("tap")]
    | Annotated[DoubleTapStep, Tag("double_tap")]
    | Annotated[LongPressStep, Tag("long_press")]
    | Annotated[TypeStep, Tag("type")]
    | Annotated[AssertVisibleStep, Tag("assert_visible")]
    | Annotated[WaitForStep, Tag("wait_for")]
    | Annotated[QueryStep, Tag("query")]
    | Annotated[ScrollUntilStep, Tag("scroll_until")]
    | Annotated[ScrollStep, Tag("scroll")]
    | Annotated[SwipeStep, Tag("swipe")]
    | Annotated[OpenAppStep, Tag("open_app")]
    | Annotated[KeyStep, Tag("key")]
    | Annotated[WaitStep, Tag("wait")]
    | Annotated[ActStep, Tag("act")],
    key_discriminator(STEP_KEYS, "script step"),
]


class ScriptFile(_Strict):
    """A script file: an optional name, variables with their defaults, and at least one step."""

    name: Text | None = None
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict)
    steps: Annotated[list[ScriptStep], Field(min_length=1)]

    @field_validator("vars")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"{name!r} is not a variable name (letters, digits and _)")
        return value


@dataclass(frozen=True)
class Script:
    """A validated script file, with what is needed to point at its lines later."""

    path: Path
    file: ScriptFile
    node: yaml.Node | None

    @property
    def name(self) -> str:
        return self.file.name or self.path.name

    @property
    def steps(self) -> list[Any]:
        return list(self.file.steps)

    @property
    def cache_path(self) -> Path:
        """Where the script's locator cache lives (beside it)."""
        return cache_path_for(self.path)

    def line_of(self, index: int, *fields: str | int) -> int | None:
        """The 1-based line of step ``index`` (0-based), or of one of its fields."""
        return resolve(self.node, ["steps", index, *fields])[0]

    def error(self, message: str, index: int, *fields: str | int) -> TaskFileError:
        """A ``TaskFileError`` naming this file, the step's line and the field."""
        line, kept = resolve(self.node, ["steps", index, *fields])
        field = ".".join(str(p) for p in kept)
        where = f", line {line}" if line else ""
        return TaskFileError(f"{self.path}{where}: field {field}: {message}", str(self.path), line, field)

    def secret_names(self) -> list[str]:
        """Secrets the script types, in order of first use."""
        names: list[str] = []
        for step in self.file.steps:
            for _, value in _strings(step):
                names += [n for n in secret_names(value) if n not in names]
        return names

    def query_lines(self) -> list[int | None]:
        """The lines of the script's queries (they need a model)."""
        return [self.line_of(i) for i, step in enumerate(self.file.steps) if isinstance(step, QueryStep)]

    def check(self, given: set[str]) -> None:
        """Refuse variables used before they are defined, and secrets outside typed text.

        Raises:
            TaskFileError: names the file, the step's line and the field.
        """
        known = set(self.file.vars) | given
        for index, step in enumerate(self.file.steps):
            for fields, value in _strings(step):
                for name in _VARIABLE.findall(value):
                    if name not in known:
                        defined = ", ".join(sorted(known)) or "none"
                        raise self.error(
                            f"variable ${{{name}}} is not defined here (defined: {defined}); give it with "
                            f"--var {name}=VALUE, in vars:, or as an earlier query's 'as'",
                            index,
                            *fields,
                        )
                if secret_names(value) and fields[-1:] != ("text",) and fields != ("type",):
                    raise self.error(
                        "a <secret:...> may appear only in typed text: anywhere else it would be sent to the model",
                        index,
                        *fields,
                    )
            if isinstance(step, QueryStep):
                known.add(step.query.as_)


def _strings(step: BaseModel) -> list[tuple[tuple[str | int, ...], str]]:
    """Every text field of a step with its path as the file spells it (``("type", "into")``)."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(step, ActStep):
        return found
    for name, value in step:
        key = type(step).model_fields[name].alias or name
        if isinstance(value, str):
            found.append(((key,), value))
        elif isinstance(value, list):
            found += [((key, i), v) for i, v in enumerate(value) if isinstance(v, str)]
        elif isinstance(value, BaseModel):
            found += [((key, *path), v) for path, v in _strings(value)]
    return found


def substitute(text: str, variables: dict[str, Any]) -> str:
    """``text`` with each ``${name}`` replaced by the variable's value (checked to exist by ``Script.check``)."""
    return _VARIABLE.sub(lambda m: str(variables[m.group(1)]), text)


def load_script(path: str | Path) -> Script:
    """Read and validate a script file.

    Raises:
        TaskFileError: unreadable, not YAML, or invalid (the message names file, line and field).
    """
    file = Path(path)
    data, node = load_yaml(file)
    if not isinstance(data, dict):
        raise TaskFileError(f"{file}: a script is a mapping with steps: (a list of one-key mappings)", str(file), 1)
    try:
        parsed = ScriptFile.model_validate(data)
    except ValidationError as error:
        raise_with_line(file, node, error)
        raise  # unreachable: raise_with_line always raises
    return Script(file, parsed, node)

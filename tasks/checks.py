"""Success checks: did the task really happen on the device? (Not: did the model say so.)

* ``text_on_screen`` — text present (or, with ``absent: true``, gone) in the Android UI hierarchy.
* ``query`` — a read-only device query (``settings get``, ``getprop``, ``dumpsys``, ``content query``,
  ``pm list packages``, ``wm size``) whose output ``equals``/``contains``/``matches`` a value.
* ``image_matches`` — a region of the final screenshot looks like a template image.
* ``answer_contains`` — the model's answer holds a text (question-answering tasks).
* ``python`` — ``module:function(context, **args)`` for anything else; returns a bool or
  ``(bool, detail)``.

Queries are checked when the task file loads against a table of exact argv shapes (``READ_ONLY_SHAPES``,
shared with the adb layer, which re-sends only those after a dropped answer): every argument must be
accounted for, so ``wm size`` is a query while ``wm size 10x10``, ``wm density 100`` or ``dumpsys battery
set level 1`` are refused. A task file cannot use a check to change state or run a command.
"""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, Tag, field_validator, model_validator

from guiagent.actions.errors import DeviceError
from guiagent.envs.adb import READ_ONLY_SHAPES, is_read_only

from .keyed import key_discriminator

if TYPE_CHECKING:
    from guiagent.agent.trajectory import Trajectory
    from guiagent.envs.base import Env

__all__ = [
    "AnswerCheck",
    "Check",
    "CheckContext",
    "CheckResult",
    "ImageCheck",
    "PythonCheck",
    "QueryCheck",
    "TextCheck",
    "evaluate",
]


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict and why."""

    name: str
    passed: bool
    detail: str


@dataclass
class CheckContext:
    """What a check may look at: the device after the run, the run itself, and the task's folder."""

    env: Env
    trajectory: Trajectory | None
    task_folder: Path

    def ui_texts(self) -> list[str]:
        """Labels of every view on screen now (Android UI hierarchy)."""
        nodes = self.env.ui_nodes()
        if nodes is None:
            raise DeviceError(f"{self.env.name} has no UI hierarchy; use image_matches or python checks", self.env.name)
        return [n.label for n in nodes if n.label]


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str | None = None


class TextCheck(_Check):
    """Text on screen (case-insensitive substring, or ``exact``); ``absent`` inverts."""

    text_on_screen: Annotated[str, Field(min_length=1)]
    exact: bool = False
    absent: bool = False

    def run(self, context: CheckContext) -> CheckResult:
        wanted = self.text_on_screen.casefold()
        texts = context.ui_texts()
        found = [t for t in texts if (t.casefold() == wanted if self.exact else wanted in t.casefold())]
        passed = bool(found) != self.absent
        shown = ", ".join(repr(t) for t in texts[:12])
        detail = f"found {found[0]!r}" if found else f"not on screen (screen shows {shown})"
        return CheckResult(self.name or f"text_on_screen {self.text_on_screen!r}", passed, detail)


class QueryCheck(_Check):
    """A read-only device query compared with an expected value."""

    query: list[str] | str
    equals: str | None = None
    contains: str | None = None
    matches: str | None = None

    @field_validator("query")
    @classmethod
    def _read_only(cls, value: list[str] | str) -> list[str]:
        argv = shlex.split(value) if isinstance(value, str) else list(value)
        if not is_read_only(argv):
            allowed = "; ".join(shown for shown, _ in READ_ONLY_SHAPES)
            raise ValueError(f"{shlex.join(argv)!r} is not a read-only query; use one of these forms: {allowed}")
        return argv

    @model_validator(mode="after")
    def _one_expectation(self) -> QueryCheck:
        if sum(v is not None for v in (self.equals, self.contains, self.matches)) != 1:
            raise ValueError("give exactly one of equals, contains, matches")
        if self.matches is not None:
            re.compile(self.matches)
        return self

    def run(self, context: CheckContext) -> CheckResult:
        query = getattr(context.env, "query", None)
        if query is None:
            raise DeviceError(f"{context.env.name} does not answer device queries", context.env.name)
        argv = self.query if isinstance(self.query, list) else shlex.split(self.query)
        output = str(query(argv)).strip()
        if self.equals is not None:
            passed, wanted = output == self.equals, f"== {self.equals!r}"
        elif self.contains is not None:
            passed, wanted = self.contains in output, f"contains {self.contains!r}"
        else:
            passed, wanted = re.search(self.matches or "", output) is not None, f"matches {self.matches!r}"
        name = self.name or f"query {' '.join(argv)}"
        return CheckResult(name, passed, f"got {output[:200]!r}, wanted {wanted}")


class ImageCheck(_Check):
    """A region of the final screen (device pixels) looks like a template (mean difference ≤ tolerance)."""

    image_matches: Path
    region: tuple[int, int, int, int] | None = None
    tolerance: Annotated[float, Field(gt=0, le=1)] = 0.06

    def run(self, context: CheckContext) -> CheckResult:
        from PIL import Image

        path = self.image_matches if self.image_matches.is_absolute() else context.task_folder / self.image_matches
        with Image.open(path) as template:
            reference = template.convert("RGB")
        screen = context.env.observe().image
        crop = screen.crop(self.region) if self.region else screen
        if crop.size != reference.size:
            crop = crop.resize(reference.size)
        difference = float(np.abs(np.asarray(crop, np.int16) - np.asarray(reference, np.int16)).mean() / 255)
        passed = difference <= self.tolerance
        detail = f"mean difference {difference:.3f} (tolerance {self.tolerance})"
        return CheckResult(self.name or f"image_matches {self.image_matches.name}", passed, detail)


class AnswerCheck(_Check):
    """The model's final answer contains a text (case-insensitive)."""

    answer_contains: Annotated[str, Field(min_length=1)]

    def run(self, context: CheckContext) -> CheckResult:
        answer = context.trajectory.run.answer if context.trajectory else None
        passed = answer is not None and self.answer_contains.casefold() in answer.casefold()
        return CheckResult(self.name or f"answer contains {self.answer_contains!r}", passed, f"answer was {answer!r}")


class PythonCheck(_Check):
    """``module:function`` called with the context and ``args``; returns bool or (bool, detail)."""

    python: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")]
    args: dict[str, Any] = Field(default_factory=dict)

    def run(self, context: CheckContext) -> CheckResult:
        function = _load_callable(self.python)
        outcome = function(context, **self.args)
        passed, detail = outcome if isinstance(outcome, tuple) else (bool(outcome), "")
        return CheckResult(self.name or f"python {self.python}", bool(passed), str(detail))


Check = Annotated[
    Annotated[TextCheck, Tag("text_on_screen")]
    | Annotated[QueryCheck, Tag("query")]
    | Annotated[ImageCheck, Tag("image_matches")]
    | Annotated[AnswerCheck, Tag("answer_contains")]
    | Annotated[PythonCheck, Tag("python")],
    key_discriminator(("text_on_screen", "query", "image_matches", "answer_contains", "python"), "check"),
]


def _load_callable(reference: str) -> Callable[..., Any]:
    module_name, _, attribute = reference.partition(":")
    module = importlib.import_module(module_name)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise TypeError(f"{reference} is not a callable")
    return function  # type: ignore[no-any-return]


def evaluate(checks: list[Check], context: CheckContext) -> list[CheckResult]:
    """Run every check; a check that cannot run counts as failed, with the reason."""
    results = []
    for check in checks:
        try:
            results.append(check.run(context))
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others' verdicts
            name = check.name or type(check).__name__
            results.append(CheckResult(name, False, f"could not run: {type(exc).__name__}: {exc}"))
    return results

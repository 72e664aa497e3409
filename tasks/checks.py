"""Success checks: did the task really happen on the device? (Not: did the model say so.)

* ``text_on_screen`` — text present (or, with ``absent: true``, gone) in the Android UI hierarchy.
* ``query`` — a read-only device query (``settings get``, ``getprop``, ``dumpsys``, ``content query``,
  ``pm list packages``, ``wm size``) whose output ``equals``/``contains``/``matches`` a value.
* ``image_matches`` — a region of the final screenshot looks like a template image.
* ``answer_contains`` — the model's answer holds a text (question-answering tasks).
* ``python`` — ``module:function(context, **args)`` for anything else; returns a bool or
  ``(bool, detail)``. The module is looked up first next to the task file (a suite ships its own checks
  module beside its YAML: ``python: suite_checks:wifi_is`` finds ``suite_checks.py`` there), then among
  installed modules (``python: guiagent.tasks.todo_app:check_item``).

Trust model: a task file is code, trusted like a Makefile. A ``python`` check imports and runs any module
it names, with guiagent's own rights, and a ``start`` setup step (``tasks/spec.py``) runs any program. Run
only task files and suites you would run as scripts; nothing the model says ever reaches them. The checks
below that are restricted are restricted for correctness, not as a sandbox: a *declarative* check must
not change the state it is there to judge. Queries are checked when the task file loads against a table
of exact argv shapes (``READ_ONLY_SHAPES``, shared with the adb layer, which re-sends only those after a
dropped answer): every argument must be accounted for, so ``wm size`` is a query while ``wm size 10x10``,
``wm density 100`` or ``dumpsys battery set level 1`` are refused.

A suite's own module is imported as a submodule of a private package whose path is the task file's folder
(``_guiagent_suite_<hash>.suite_checks``), so ``sys.path`` is never changed, two suites that both ship a
``checks.py`` each get their own, and the suite's modules never shadow an installed module of the same name
for anyone else. Inside it, import the suite's other modules relatively (``from . import helpers``).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import re
import shlex
import sys
import threading
import types
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
        return self

    @field_validator("matches")
    @classmethod
    def _a_regex(cls, value: str | None) -> str | None:
        """Tried here, so a bad pattern is refused when the file loads (with its line and field), not mid-run."""
        if value is not None:
            try:
                re.compile(value)
            except (re.error, OverflowError, RecursionError) as exc:
                raise ValueError(
                    f"not a regular expression ({exc}); escape special characters with a backslash"
                ) from None
        return value

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
        function = _load_callable(self.python, context.task_folder)
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


def _load_callable(reference: str, folder: Path) -> Callable[..., Any]:
    """``module:function``, the module looked up next to the task file first, then among installed ones."""
    module_name, _, attribute = reference.partition(":")
    module = _suite_module(module_name, folder) or importlib.import_module(module_name)
    function = getattr(module, attribute, None)
    if not callable(function):
        raise TypeError(f"{reference} is not a callable")
    return function  # type: ignore[no-any-return]


_SUITE_PACKAGE = "_guiagent_suite_"
_suite_packages_lock = threading.Lock()


def _suite_module(module_name: str, folder: Path) -> types.ModuleType | None:
    """``module_name`` imported from ``folder`` (a ``.py`` file or a package there), or None if it has none.

    The folder becomes a private package, one per folder, whose ``__path__`` is that folder: the import
    machinery finds the module there without ``sys.path``, caches it under the private name only, and
    relative imports inside it resolve to the folder's other modules.
    """
    top = module_name.split(".", 1)[0]
    if not ((folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file()):
        return None
    resolved = folder.resolve()
    package = _SUITE_PACKAGE + hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    with _suite_packages_lock:
        if package not in sys.modules:
            spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
            spec.submodule_search_locations = [str(resolved)]
            module = importlib.util.module_from_spec(spec)
            sys.modules[package] = module
    return importlib.import_module(f"{package}.{module_name}")


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

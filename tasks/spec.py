"""Task files: what to do, how to prepare the device, and how to tell that it was done.

A task is a YAML file validated by pydantic; an error names the file, the line and the field::

    id: wifi-on
    goal: Turn on Wi-Fi
    device: android
    setup:
      - settings: {namespace: global, key: wifi_on, value: "0"}
      - action: {type: system_button, button: home}
    max_steps: 10
    success:
      - query: settings get global wifi_on
        equals: "1"
      - text_on_screen: Wi-Fi

Setup steps are device actions (the action space, in device pixels), Android settings presets, clearing
an app's data, or starting a program the task is about (an argv list, no shell; stopped afterwards, and
when a later setup step fails). Success checks are listed in ``tasks/checks.py``; a task succeeds when
every check passes.

Trust model: a task file is code, trusted like a Makefile. A ``start`` step runs any program it names and
a ``python`` check imports and runs any module, both with the rights of the user running guiagent; so
run only task files and suites you would run as scripts, and review a suite's folder (its YAML and any
checks module shipped next to it) as you would review code. Nothing the model says ever reaches a task
file: the model acts only through the action space, on the device. The validation here (exact read-only
query shapes, setting names and values, slugs) is there so that a task does what its author meant and a
check cannot change the state it judges, not to make an untrusted task file safe to run. What guiagent
does confine is where a suite's files and a run's recorded files point: inside their own folders
(``tasks/suite.py``, ``agent/trajectory.py``), so a results folder or a report never reaches elsewhere.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Tag, ValidationError, field_validator

from guiagent.actions.types import Action

from .checks import Check
from .keyed import key_discriminator
from .yaml_lines import load_yaml, raise_with_line

__all__ = [
    "ActionSetup",
    "ClearAppSetup",
    "SettingsSetup",
    "SetupStep",
    "StartSetup",
    "TaskSpec",
    "WaitSetup",
    "load_task",
]

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActionSetup(_Strict):
    """Perform one device action (device pixels) before the run: open an app, go home, type."""

    action: Action


class SettingsPreset(_Strict):
    """An Android setting to set before the run (``settings put NAMESPACE KEY VALUE``)."""

    namespace: Literal["global", "secure", "system"]
    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.]+$")]
    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/-]*$")]


class SettingsSetup(_Strict):
    """Preset an Android setting."""

    settings: SettingsPreset


class ClearAppSetup(_Strict):
    """Reset an app to its installed state (``pm clear PACKAGE``; it deletes the app's data)."""

    clear_app: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.]+$")]


class StartSetup(_Strict):
    """Start a program for the task (desktop apps) as an argv list, never through a shell.

    ``{python}`` in an argument is this Python interpreter. The program is stopped after the task.
    """

    start: Annotated[list[str], Field(min_length=1)]


class WaitSetup(_Strict):
    """Pause before the next setup step."""

    wait: Annotated[float, Field(ge=0, le=60)]


SetupStep = Annotated[
    Annotated[ActionSetup, Tag("action")]
    | Annotated[SettingsSetup, Tag("settings")]
    | Annotated[ClearAppSetup, Tag("clear_app")]
    | Annotated[StartSetup, Tag("start")]
    | Annotated[WaitSetup, Tag("wait")],
    key_discriminator(("action", "settings", "clear_app", "start", "wait"), "setup step"),
]


class TaskSpec(_Strict):
    """One task.

    Args:
        id: a short slug, unique in its suite.
        goal: the instruction the model is given.
        device: the kind of device it runs on.
        setup: steps that bring the device to the starting state.
        max_steps: step limit for the agent.
        time_limit: seconds before the run ends as ``timeout``.
        success: checks that must all pass afterwards.
        require_model_success: also require that the model itself reported success.
        tags: free labels for filtering and reports.
    """

    id: str
    goal: Annotated[str, Field(min_length=1)]
    device: Literal["android", "desktop"] = "android"
    setup: list[SetupStep] = Field(default_factory=list)
    max_steps: Annotated[int, Field(ge=1, le=500)] = 20
    time_limit: Annotated[float, Field(gt=0)] | None = 300.0
    success: Annotated[list[Check], Field(min_length=1)]
    require_model_success: bool = False
    tags: list[str] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be a lowercase slug: letters, digits, '.', '_' or '-' (e.g. wifi-on)")
        return value

    @property
    def folder(self) -> Path:
        """Where relative paths in the task (image templates) are resolved from."""
        return self.source.parent if self.source else Path.cwd()


def load_task(path: str | Path) -> TaskSpec:
    """Read and validate one task file.

    Raises:
        TaskFileError: unreadable, not YAML, or invalid (the message names file, line and field).
    """
    file = Path(path)
    data, node = load_yaml(file)
    return task_from_data(data, file, node)


def task_from_data(data: Any, file: Path, node: Any = None, prefix: tuple[str | int, ...] = ()) -> TaskSpec:
    """Validate task data read from ``file`` (``prefix``: where it sits inside a suite file)."""
    from guiagent.actions.errors import TaskFileError

    if not isinstance(data, dict):
        raise TaskFileError(f"{file}: a task must be a mapping with id, goal and success", str(file), 1)
    try:
        return TaskSpec.model_validate({**data, "source": file})
    except ValidationError as error:
        raise_with_line(file, node, error, prefix)
        raise  # unreachable: raise_with_line always raises

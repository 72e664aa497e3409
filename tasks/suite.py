"""Suites: a folder of task files, one YAML file listing tasks, or a suite shipped with guiagent.

Shipped suites live in ``guiagent/tasks/suites/NAME/`` and are named on the command line by ``NAME``
(``guiagent eval virtual-phone ...``); anything else is a path.

A suite is a folder you can review as a whole, like a project with a Makefile (task files are code, see
``tasks/spec.py``): everything it consists of lies inside that folder. The task files a suite YAML lists are
relative paths that stay inside its folder (no ``../``, no absolute path, no symlink out), a folder suite's
``*.yaml`` files are not symlinks out of it, and the suite's ``name``, which names its results folder
(``eval-results/NAME-TIMESTAMP``), cannot lead out of it (no absolute path, drive or ``..`` part).
Anything else is a ``TaskFileError`` naming the file, the line and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, NoReturn

from guiagent.actions.errors import TaskFileError

from .spec import TaskSpec, load_task, task_from_data
from .yaml_lines import load_yaml, resolve

if TYPE_CHECKING:
    import yaml

__all__ = ["Suite", "builtin_suites", "load_suite"]


@dataclass(frozen=True)
class Suite:
    """A named list of tasks."""

    name: str
    tasks: tuple[TaskSpec, ...]
    source: Path

    def select(self, ids: list[str] | None) -> Suite:
        """Only the tasks with these ids (all when ``ids`` is empty).

        Raises:
            TaskFileError: an id is not in the suite.
        """
        if not ids:
            return self
        known = {t.id for t in self.tasks}
        missing = [i for i in ids if i not in known]
        if missing:
            raise TaskFileError(
                f"suite {self.name!r} has no task {', '.join(missing)}; it has {', '.join(sorted(known))}"
            )
        return Suite(self.name, tuple(t for t in self.tasks if t.id in ids), self.source)


def _suites_root() -> Path:
    return Path(str(resources.files("guiagent.tasks").joinpath("suites")))


def builtin_suites() -> dict[str, Path]:
    """Suites shipped with guiagent, by name."""
    root = _suites_root()
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir()} if root.is_dir() else {}


def load_suite(reference: str | Path) -> Suite:
    """Load a suite by shipped name, folder, or YAML file.

    Raises:
        TaskFileError: not found, or a task in it does not validate; duplicate ids.
    """
    shipped = builtin_suites()
    path = shipped.get(str(reference)) or Path(reference)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        if not files:
            raise TaskFileError(f"{path}: no task files (*.yaml) in this folder", str(path))
        for file in files:
            if not _inside(file, path):
                raise TaskFileError(
                    f"{file}: a symlink that leads outside the suite's folder {path}; copy the task file into "
                    "the folder instead",
                    str(file),
                )
        tasks = [load_task(f) for f in files]
        name = path.resolve().name or "suite"
    elif path.is_file():
        tasks, name = _tasks_in_file(path)
    else:
        names = ", ".join(shipped) or "none"
        raise TaskFileError(f"no suite {str(reference)!r}: not a file or folder, nor a shipped suite ({names})")
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise TaskFileError(f"{task.source}: duplicate task id {task.id!r} in suite {name!r}", str(task.source))
        seen.add(task.id)
    return Suite(name, tuple(tasks), path)


def _tasks_in_file(path: Path) -> tuple[list[TaskSpec], str]:
    data, node = load_yaml(path)
    if isinstance(data, dict) and "tasks" in data:
        entries = data["tasks"]
        if not isinstance(entries, list):
            line, _ = resolve(node, ("tasks",))
            raise TaskFileError(
                f"{path}, line {line}: field tasks: must be a list of task files or tasks", str(path), line, "tasks"
            )
        tasks = []
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                tasks.append(load_task(_listed_file(path, node, index, entry)))
            else:
                tasks.append(task_from_data(entry, path, node, ("tasks", index)))
        return tasks, _suite_name(path, node, data.get("name"))
    return [task_from_data(data, path, node)], path.stem


def _inside(file: Path, folder: Path) -> bool:
    """Whether ``file``, symlinks resolved, lies inside ``folder`` (symlinks resolved too); a symlink loop
    or a name the file system cannot take does not."""
    try:
        return file.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # RuntimeError: pathlib's word for a symlink loop
        return False


def _listed_file(suite_file: Path, node: yaml.Node | None, index: int, entry: str) -> Path:
    """The task file a suite lists as ``entry``, refused unless it lies inside the suite file's folder."""
    folder = suite_file.parent
    candidate = folder / entry
    if Path(entry).is_absolute() or not _inside(candidate, folder):
        _refuse_entry(
            suite_file,
            node,
            index,
            f"{entry!r} is outside the suite's folder {folder}; list task files by "
            "paths inside it (copy or move the file there)",
        )
    if not candidate.is_file():
        _refuse_entry(
            suite_file,
            node,
            index,
            f"no task file {entry!r} in {folder}; list task files by their paths relative to the suite file",
        )
    return candidate


def _refuse_entry(suite_file: Path, node: yaml.Node | None, index: int, problem: str) -> NoReturn:
    line, _ = resolve(node, ("tasks", index))
    where = f"tasks.{index}"
    raise TaskFileError(f"{suite_file}, line {line}: field {where}: {problem}", str(suite_file), line, where)


def _suite_name(suite_file: Path, node: yaml.Node | None, given: object) -> str:
    """The suite's ``name`` (default: the file's stem), refused when, as part of a path, it would escape."""
    if given is None or given == "":
        return suite_file.stem
    name = str(given)
    if _escapes(name):
        line, _ = resolve(node, ("name",))
        raise TaskFileError(
            f"{suite_file}, line {line}: field name: {name!r} would lead out of the results folder it names "
            "(an absolute path, a drive, or a '..' part); name the suite in words, e.g. nightly-phone",
            str(suite_file),
            line,
            "name",
        )
    return name


def _escapes(name: str) -> bool:
    """Whether ``name``, read as a relative path on POSIX or Windows, is absolute or climbs out with ``..``."""
    if "\x00" in name or not name.strip():
        return True
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if posix.is_absolute() or windows.anchor or windows.drive:
        return True
    return ".." in posix.parts or ".." in windows.parts

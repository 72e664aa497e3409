"""Trajectories on disk: one folder per run, written step by step so that nothing is lost.

Layout of a run folder::

    run.json            the RunRecord; status "running" until the run ends, rewritten atomically
    steps.jsonl         one StepRecord per line, appended, flushed and fsynced after every step
    step-0001.png       each step's screenshot (lossless), written before its step line

A run killed at any moment (SIGKILL included) leaves a folder whose ``steps.jsonl`` holds every finished
step. Reading it back, only a half-written last line (no newline: the write was cut short) is skipped and
counted; any other line that does not read as a step is damage, and a ``TrajectoryError`` names the file
and line, so a trajectory is never silently shorter than what was written. Secrets are redacted before
anything is written.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from guiagent.actions.errors import TrajectoryError
from guiagent.actions.types import Action

from .files import write_atomic
from .records import RunRecord, StepRecord

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "Redactor",
    "Trajectory",
    "TrajectoryError",
    "TrajectoryWriter",
    "guiagent_version",
    "new_run_id",
    "secret_names",
]

RUN_FILE = "run.json"
STEPS_FILE = "steps.jsonl"
_PLACEHOLDER = re.compile(r"<secret:([^<>\s]+)>")


def guiagent_version() -> str:
    """The installed guiagent version, recorded in every run."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("guiagent")
    except PackageNotFoundError:
        return "unknown"


def new_run_id(task: str = "") -> str:
    """A sortable, unique folder name: ``20261122-101500-ab12cd``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime())
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def secret_names(text: str) -> list[str]:
    """The names of the ``<secret:name>`` placeholders in ``text``, in order of first appearance."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


@dataclass(frozen=True)
class Redactor:
    """The run's secrets, both ways: values become ``<secret:name>`` wherever they would be written
    (``text``, ``data``), and placeholders become values in what is typed on the device (``reveal``)."""

    secrets: dict[str, str] = field(default_factory=dict)

    def reveal(self, action: Action) -> Action:
        """``action`` as the device must receive it: a ``type`` action's placeholders replaced by their values.

        Only typed text is substituted, and only here, just before the device gets it: the model, the
        trajectory and the display keep the placeholder. The agent and replay both type through this.
        """
        if action.type != "type" or not self.secrets:
            return action
        text = action.text  # type: ignore[union-attr]
        for name, value in self.secrets.items():
            text = text.replace(f"<secret:{name}>", value)
        return action.model_copy(update={"text": text})

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by its placeholder (longest secrets first)."""
        for name, secret in sorted(self.secrets.items(), key=lambda kv: -len(kv[1])):
            if secret:
                value = value.replace(secret, f"<secret:{name}>")
        return value

    def data(self, value: Any) -> Any:
        """Redact strings anywhere inside JSON-like data."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value


class TrajectoryWriter:
    """Writes one run folder. Use as a context manager or call ``finish``; both are safe to repeat.

    Args:
        folder: the run folder (created).
        record: the run record, written at once with status ``running``.
        redactor: replaces secrets in everything written.
        background_images: encode screenshots on a worker thread (replays, where the PNG encode would be
            a third of a step); ``finish`` waits for them. A run killed mid-write may then miss its last
            screenshot, never a step line.
    """

    def __init__(
        self, folder: Path, record: RunRecord, redactor: Redactor | None = None, background_images: bool = False
    ) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.redactor = redactor or Redactor()
        self.record = record
        self._steps = (self.folder / STEPS_FILE).open("a", encoding="utf-8")
        self._images = ThreadPoolExecutor(1, thread_name_prefix="trajectory-images") if background_images else None
        self._write_run()

    def save_screenshot(self, index: int, image: Image.Image) -> str:
        """Write a step's screenshot (PNG, fast compression) and return its file name."""
        name = f"step-{index:04d}.png"
        if self._images is not None:
            self._images.submit(image.save, self.folder / name, "PNG", compress_level=1)
        else:
            image.save(self.folder / name, "PNG", compress_level=1)
        return name

    def save_image(self, name: str, image: Image.Image) -> str:
        """Write an extra image (an annotated dry-run frame, a replay's reference) and return its name."""
        image.save(self.folder / name, "PNG", compress_level=1)
        return name

    def append(self, step: StepRecord) -> None:
        """Append a step and make it durable before returning."""
        data = self.redactor.data(step.model_dump(mode="json"))
        self._steps.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._steps.flush()
        os.fsync(self._steps.fileno())
        self.record.steps = step.index

    def update(self, **fields: Any) -> None:
        """Change run fields (status, answer, ...) and rewrite ``run.json``."""
        self.record = self.record.model_copy(update=fields)
        self._write_run()

    def finish(self, status: str, reason: str = "", answer: str | None = None) -> RunRecord:
        """Record how the run ended; later calls only update the fields again."""
        if self._images is not None:
            self._images.shutdown(wait=True)
        self.update(status=status, reason=reason, answer=answer, finished_at=time.time())
        if not self._steps.closed:
            self._steps.close()
        return self.record

    def _write_run(self) -> None:
        data = self.redactor.data(self.record.model_dump(mode="json"))
        write_atomic(self.folder / RUN_FILE, json.dumps(data, indent=2, ensure_ascii=False))

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._steps.closed:
            self._steps.close()


@dataclass
class Trajectory:
    """A run read back from its folder."""

    folder: Path
    run: RunRecord
    steps: list[StepRecord]
    skipped_lines: int = 0

    @classmethod
    def load(cls, folder: str | Path) -> Trajectory:
        """Read a run folder, skipping a half-written last line (counted in ``skipped_lines``).

        Raises:
            FileNotFoundError: the folder has no ``run.json``.
            TrajectoryError: ``run.json`` is not a run record, or a line of ``steps.jsonl`` other than a
                half-written last one is not a step.
        """
        path = Path(folder)
        run_file = path / RUN_FILE
        if not run_file.exists():
            raise FileNotFoundError(f"{path} is not a guiagent run folder (no {RUN_FILE})")
        try:
            run = RunRecord.model_validate_json(run_file.read_bytes())
        except ValidationError as exc:
            raise TrajectoryError(
                f"{run_file} is not a guiagent run record: {_first_error(exc)}; restore it from a copy",
                str(run_file),
            ) from None
        steps, skipped = _read_steps(path / STEPS_FILE)
        return cls(path, run, steps, skipped)

    def screenshot_path(self, step: StepRecord) -> Path | None:
        """Where a step's screenshot is, if it was saved."""
        return self.folder / step.screenshot if step.screenshot else None

    @property
    def status(self) -> str:
        """How the run ended ("running" if it never said)."""
        return self.run.status


def _read_steps(path: Path) -> tuple[list[StepRecord], int]:
    """Every step line; only a last line cut short (no newline, not a step) is skipped, any other bad line raises."""
    if not path.exists():
        return [], 0
    steps: list[StepRecord] = []
    for number, raw, last in _lines(path):
        try:
            steps.append(StepRecord.model_validate_json(raw))
        except ValidationError as exc:
            if last and not raw.endswith(b"\n"):
                return steps, 1  # the write of this line was cut short (a run killed mid-append)
            raise TrajectoryError(
                f"{path}:{number} is not a step record: {_first_error(exc)}; "
                "restore the file, or delete that line to drop the step",
                str(path),
                number,
            ) from None
    return steps, 0


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, raw bytes, is the last line) for each non-blank line; bytes, so nothing is decoded leniently."""
    lines = path.read_bytes().splitlines(keepends=True)
    while lines and not lines[-1].strip():
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield number, raw, number == len(lines)


def _first_error(exc: ValidationError) -> str:
    """One line for a pydantic error: where and what (a line of JSON can carry many)."""
    errors = exc.errors()
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "the line"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"

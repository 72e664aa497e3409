"""Trajectories on disk: one folder per run, written step by step so that nothing is lost.

Layout of a run folder::

    run.json            the RunRecord; status "running" until the run ends, rewritten atomically
    steps.jsonl         one StepRecord per line, appended, flushed and fsynced after every step
    step-0001.png       each step's screenshot (lossless), written before its step line

A run killed at any moment (SIGKILL included) leaves a folder whose ``steps.jsonl`` holds every finished
step. Reading it back, only a half-written last line (no newline: the write was cut short) of a run still
``running`` is skipped and counted; any other line that does not read as a step -- a cut last line of a run
that recorded how it ended included -- is damage, and a ``TrajectoryError`` names the file and line, so a
trajectory is never silently shorter than what was written. Each field is checked as it is read
(``records``: finite timestamps, screen sizes of positive ints, prompts in the shape written), so the
report and replay never meet a value they cannot use. Secrets are redacted before anything is written.

A step's ``screenshot`` field names a file of its own run folder: a plain file name (``step-0001.png``),
never ``../``, an absolute path, or a symlink resolving outside the folder. Reading a run folder refuses
anything else with a ``TrajectoryError`` naming the line, so neither ``report`` (which embeds the image)
nor ``replay`` (which compares the device with it) can be pointed at another file on this machine. Both read
it through ``Trajectory.read_screenshot``: a PNG or WebP whose claimed size is checked before it is decoded.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from guiagent.actions.errors import TrajectoryError
from guiagent.actions.types import Action
from guiagent.envs.imaging import encode_png

from .files import write_atomic
from .records import MAX_SIDE, RunRecord, StepRecord

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "MAX_SCREENSHOT_BYTES",
    "MAX_SCREENSHOT_PIXELS",
    "Redactor",
    "Trajectory",
    "TrajectoryError",
    "TrajectoryWriter",
    "guiagent_version",
    "new_run_id",
    "check_image",
    "read_image",
    "secret_names",
]

RUN_FILE = "run.json"
STEPS_FILE = "steps.jsonl"
MAX_SCREENSHOT_PIXELS = 50_000_000
"""The most pixels a recorded screenshot may have (an 8K screen is 33M): a larger claim is a decompression bomb."""
MAX_SCREENSHOT_BYTES = 256 * 2**20
"""The largest screenshot file read (50M pixels of uncompressed RGBA are 200 MB)."""
_PLACEHOLDER = re.compile(r"<secret:([^<>\s]+)>")


@functools.cache
def guiagent_version() -> str:
    """The installed guiagent version, recorded in every run (read once: the metadata lookup parses the
    installed package's files, ~8 ms, and every episode of a suite asks)."""
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

    An image that cannot be saved (a full disk, an unwritable folder, a name taken by a folder) is never
    lost silently, whether it was written at once or on the background thread. It is recorded in the next
    step line written (the step whose screenshot it was, when that line is not yet written: its
    ``screenshot`` is then cleared, so no step names a file that is not there), and that ``append`` then
    raises ``TrajectoryError`` once the line is durable, so the run ends as an error at once. A failure
    found only by ``finish`` (the last background save) makes the run's status ``error``, the reason naming
    the files and how the run itself ended.

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
        self._saving: list[tuple[str, Future[None]]] = []
        self._unsaved: list[tuple[str, str]] = []  # (file name, why): failed saves no step line records yet
        self._lost: list[tuple[str, str]] = []  # every failed save of the run: ``finish`` never reports success
        self._write_run()

    def save_screenshot(self, index: int, image: Image.Image) -> str:
        """Write a step's screenshot (lossless PNG, fast compression: ``envs.imaging.encode_png``) and return
        its file name."""
        name = f"step-{index:04d}.png"
        if self._images is not None:
            self._saving.append((name, self._images.submit(self._write_png, name, image)))
        else:
            self._save_now(name, image)
        return name

    def save_image(self, name: str, image: Image.Image) -> str:
        """Write an extra image (an annotated dry-run frame, a replay's reference) and return its name."""
        self._save_now(name, image)
        return name

    def append(self, step: StepRecord) -> None:
        """Append a step and make it durable before returning.

        Raises:
            TrajectoryError: an image of this run could not be saved; raised after the line (which records
                it) is on disk, unless another exception is already propagating (that one ends the run).
        """
        self._collect_saves(wait=False)
        failed, self._unsaved = self._unsaved, []
        for name, why in failed:
            if name == step.screenshot:
                step.screenshot = None
            step.notes.append(f"{name} was not saved ({why})")
        data = self.redactor.data(step.model_dump(mode="json"))
        self._steps.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._steps.flush()
        os.fsync(self._steps.fileno())
        self.record.steps = step.index
        if failed and sys.exc_info()[1] is None:  # an error already on its way out ends the run anyway
            name, why = failed[0]
            raise TrajectoryError(self._cannot_save(name, why), str(self.folder / name))

    def update(self, **fields: Any) -> None:
        """Change run fields (status, answer, ...) and rewrite ``run.json``."""
        self.record = self.record.model_copy(update=fields)
        self._write_run()

    def finish(self, status: str, reason: str = "", answer: str | None = None) -> RunRecord:
        """Record how the run ended; later calls only update the fields again.

        Waits for background saves first. A save that failed makes the status ``error`` (the reason naming
        the files and how the run itself ended) unless it is already that: a run that lost an image never
        reads as a success.
        """
        if self._images is not None:
            self._images.shutdown(wait=True)
        self._collect_saves(wait=True)
        if self._unsaved or (self._lost and status != "error"):  # not surfaced yet, or the caller went on
            lost, self._unsaved = self._unsaved or self._lost, []
            names = ", ".join(name for name, _ in lost)
            why = self._cannot_save(*lost[0])
            status, reason = (
                "error",
                f"TrajectoryError: {why} (unsaved: {names}); the run itself ended {status}: {reason}",
            )
        self.update(status=status, reason=reason, answer=answer, finished_at=time.time())
        if not self._steps.closed:
            self._steps.close()
        return self.record

    def _write_png(self, name: str, image: Image.Image) -> None:
        path = self.folder / name
        data = encode_png(image)  # lossless; half the CPU of Pillow's encoder (see ``envs.imaging``)
        try:
            with path.open("wb") as file:
                file.write(data)
        except BaseException:
            if path.is_file():  # a save cut short by a full disk leaves a truncated PNG: no file beats a bad one
                path.unlink(missing_ok=True)
            raise

    def _save_now(self, name: str, image: Image.Image) -> None:
        try:
            self._write_png(name, image)
        except OSError as exc:
            self._failed(name, exc)

    def _collect_saves(self, wait: bool) -> None:
        """Move finished background saves off the list, noting those that failed (all of them, if ``wait``)."""
        pending: list[tuple[str, Future[None]]] = []
        for name, future in self._saving:
            if not (wait or future.done()):
                pending.append((name, future))
            elif (error := future.exception()) is not None:
                self._failed(name, error)
        self._saving = pending

    def _failed(self, name: str, error: BaseException) -> None:
        why = f"{type(error).__name__}: {error}"
        self._unsaved.append((name, why))
        self._lost.append((name, why))

    def _cannot_save(self, name: str, why: str) -> str:
        return (
            f"could not save {name} in {self.folder} ({why}); free space on that disk, or give the run a "
            "writable output folder"
        )

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

        Only a run still ``running`` can end in a half-written line (it was killed mid-append): a run that
        recorded how it ended wrote every line whole first, so there a cut last line is damage.

        Raises:
            FileNotFoundError: the folder has no ``run.json``.
            TrajectoryError: ``run.json`` is not a run record (or not a readable file), ``steps.jsonl`` is not
                a readable file, a line of it other than a half-written last one is not a step, or the last line
                of a finished run is cut short.
        """
        path = Path(folder)
        run_file = path / RUN_FILE
        if not run_file.exists():
            raise FileNotFoundError(f"{path} is not a guiagent run folder (no {RUN_FILE})")
        try:
            run = RunRecord.model_validate_json(_read_file(run_file))
        except ValidationError as exc:
            raise TrajectoryError(
                f"{run_file} is not a guiagent run record: {_first_error(exc)}; restore it from a copy",
                str(run_file),
            ) from None
        steps, cut = _read_steps(path / STEPS_FILE)
        if cut is not None:
            _check_cut(run, steps, path / STEPS_FILE, cut)
        return cls(path, run, steps, 0 if cut is None else 1)

    def screenshot_path(self, step: StepRecord) -> Path | None:
        """Where a step's screenshot is, if it was saved.

        Raises:
            TrajectoryError: the recorded name is not a file of this run folder (see the module docstring).
        """
        if not step.screenshot:
            return None
        problem = _outside_folder(step.screenshot, self.folder)
        if problem:
            raise TrajectoryError(
                f"{self.folder / STEPS_FILE}: step {step.index}: field screenshot {step.screenshot!r} is not a file "
                f"of this run folder ({problem})",
                str(self.folder / STEPS_FILE),
            )
        return self.folder / step.screenshot

    def read_screenshot(self, step: StepRecord) -> Image.Image | None:
        """A step's screenshot, decoded in full (RGB); None when the step recorded none.

        Replay compares the device with it and the report embeds it: both read it here, so a file that is
        missing, a folder, not a PNG or WebP, truncated, or too large to decode safely (a decompression
        bomb) is one typed error naming the file, never a library exception halfway through either.

        Raises:
            TrajectoryError: the recorded file is not a readable screenshot of this run folder.
        """
        path = self.screenshot_path(step)
        if path is None:
            return None
        return read_image(path, f"step {step.index}")

    def check_screenshot(self, step: StepRecord) -> bool:
        """Whether the step recorded a screenshot, refusing one that is not whole (``check_image``: no pixel
        decoded, so a replay can check every step's before its first action at almost no cost).

        Raises:
            TrajectoryError: the recorded file is not a readable screenshot of this run folder.
        """
        path = self.screenshot_path(step)
        if path is not None:
            check_image(path, f"step {step.index}")
        return path is not None

    @property
    def status(self) -> str:
        """How the run ended ("running" if it never said)."""
        return self.run.status


def _read_file(path: Path) -> bytes:
    """The bytes of a run folder's file; a folder or an unreadable file in its place is a ``TrajectoryError``."""
    problem = _outside_folder(path.name, path.parent)
    if problem:
        raise TrajectoryError(f"{path} is not a file of its run folder ({problem}); restore it from a copy", str(path))
    if not path.is_file():
        raise TrajectoryError(f"{path} is not a file; restore it from a copy of the run", str(path))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TrajectoryError(f"cannot read {path}: {exc.strerror or exc}; restore it from a copy", str(path)) from None


def _read_steps(path: Path) -> tuple[list[StepRecord], int | None]:
    """Every step line, and the number of a last line cut short (no newline, not a step) if there is one.

    Any other bad line raises; whether a cut last line may be skipped is the caller's call (``_check_cut``).
    """
    if not path.exists() and not path.is_symlink():
        return [], None
    steps: list[StepRecord] = []
    for number, raw, last in _lines(path):
        try:
            step = StepRecord.model_validate_json(raw)
        except ValidationError as exc:
            if last and not raw.endswith(b"\n"):
                return steps, number  # the write of this line was cut short (a run killed mid-append)
            raise TrajectoryError(
                f"{path}:{number} is not a step record: {_first_error(exc)}; "
                "restore the file, or delete that line to drop the step",
                str(path),
                number,
            ) from None
        problem = _outside_folder(step.screenshot, path.parent) if step.screenshot else None
        if problem:
            raise TrajectoryError(
                f"{path}:{number}: field screenshot {step.screenshot!r} is not a file of this run folder ({problem}); "
                "a run records its screenshots as plain file names inside its folder, e.g. step-0001.png: "
                "restore the line from a copy of the run",
                str(path),
                number,
            )
        steps.append(step)
    return steps, None


def _check_cut(run: RunRecord, steps: list[StepRecord], path: Path, number: int) -> None:
    """Refuse a cut last line unless the run was killed while writing it.

    A run that recorded how it ended wrote all its lines whole first; and a ``run.json`` that counts the
    cut step (``steps`` is the index of the last step written in full) says that line was once whole.
    """
    cut_index = steps[-1].index + 1 if steps else 1
    if run.status != "running":
        why = f"the run ended {run.status!r}, so every line was written whole"
    elif run.steps >= cut_index:
        why = f"{RUN_FILE} records {run.steps} steps written in full"
    else:
        return
    raise TrajectoryError(
        f"{path}:{number} is cut short ({why}): the file was damaged after the run; restore it from a copy, "
        "or delete that line to drop the step",
        str(path),
        number,
    )


def read_image(path: Path, what: str) -> Image.Image:
    """The screenshot at ``path`` decoded in full (RGB), after ``check_image`` has passed it.

    Raises:
        TrajectoryError: as ``check_image``, or its pixels do not decode.
    """
    from PIL import Image

    check_image(path, what)
    with _refusing(path, what), Image.open(path, formats=_FORMATS) as image:
        return image.convert("RGB")


def check_image(path: Path, what: str) -> None:
    """Refuse the screenshot at ``path`` unless it is whole, without decoding a pixel (~0.3 ms, where a
    decode of 1080x2400 takes ~20 ms): a regular file, a PNG or WebP, a sane size, every PNG chunk present
    with a right checksum.

    Run folders hold PNG (what the writer saves) or lossless WebP (the bundled demo run); nothing else is
    opened, so a text file, or ``run.json`` named as a screenshot, is refused, not guessed at.

    Raises:
        TrajectoryError: not a regular file, larger than ``MAX_SCREENSHOT_BYTES``, not a PNG or WebP image,
            claiming more than ``MAX_SCREENSHOT_PIXELS`` (or a side above ``MAX_SIDE``: a decompression bomb),
            truncated or corrupt; the message names the file and ``what`` it is.
    """
    from PIL import Image

    if not path.is_file():
        raise _refusal(path, what, "is missing" if not path.exists() else "is not a file")
    with _refusing(path, what):
        if path.stat().st_size > MAX_SCREENSHOT_BYTES:
            raise _refusal(path, what, f"is larger than {MAX_SCREENSHOT_BYTES // 2**20} MB")
        with Image.open(path, formats=_FORMATS) as probe:  # reads the header, decodes no pixel
            width, height = probe.size
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and width * height <= MAX_SCREENSHOT_PIXELS):
                raise _refusal(path, what, f"claims {width}x{height} pixels, more than a screenshot can have")
            probe.verify()  # a PNG's chunks all there, each checksum right


def _refusal(path: Path, what: str, problem: str) -> TrajectoryError:
    return TrajectoryError(
        f"{path} ({what}'s screenshot) {problem}; restore it from a copy of the run, or delete the step's line",
        str(path),
    )


@contextmanager
def _refusing(path: Path, what: str) -> Iterator[None]:
    """Pillow's failures to read ``path`` as one ``TrajectoryError`` (a bomb warning refused, never printed)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refusal(path, what, f"claims more pixels than a screenshot can have ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _refusal(path, what, f"is not a readable PNG or WebP image ({type(exc).__name__}: {exc})") from None


_FORMATS = ["PNG", "WEBP"]


def _outside_folder(name: str, folder: Path) -> str | None:
    """Why the file ``name`` recorded in a run folder is not a file of ``folder``, or None when it is."""
    if "\x00" in name or name in ("", ".", ".."):
        return "not a file name"
    if "/" in name or "\\" in name or ":" in name or Path(name).is_absolute():
        return "a path, not a file name"
    file = folder / name
    try:
        if file.is_symlink() and not file.resolve().is_relative_to(folder.resolve()):
            return f"a symlink to {file.resolve()}, outside the folder"
    except OSError as exc:  # a name too long for the file system
        return f"unreadable: {exc.strerror or exc}"
    except RuntimeError:  # pathlib's word for a symlink loop
        return "a symlink loop"
    return None


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, raw bytes, is the last line) for each non-blank line; bytes, so nothing is decoded leniently."""
    lines = _read_file(path).splitlines(keepends=True)
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

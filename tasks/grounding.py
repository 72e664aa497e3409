"""Offline grounding evaluation: does the model click inside the target, screenshot by screenshot?

Two ways to ask (``prompt``):

- ``"agent"`` (the default): each record's instruction becomes the task of the family's own agent prompt
  (``family.render``), so the model is tested exactly as the agent will use it: same prompt, same image
  size (resized once with ``prepare_image`` under the family's plan), same parser and coordinate mapping.
  The answer is correct when the first action carrying a point (a box answer is its centre; a swipe or drag
  its start) lands inside the target box in device pixels.
- ``"official"``: the model authors' own grounding prompt (``family.grounding_messages``) and answer format
  (``family.parse_grounding``), the way published ScreenSpot numbers were measured, at temperature 0 and
  the family's pixel limits; the point is mapped to device pixels with the same coordinate space.

::

    records = load_grounding_records("screenspot_mobile.json", bbox_format="xywh")
    evaluation = GroundingEvaluation(records, backend, get_family("qwen2.5-vl-mobile"), "out/", workers=8)
    summary = evaluation.run()
    print(summary.accuracy, summary.by_type["icon"].accuracy)

Nothing is lost on failure: each result is appended to ``results.jsonl`` and flushed as it finishes;
``summary.json`` is written at the end, also after Ctrl-C (a partial summary) or a fatal model error.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar

from PIL import Image

from guiagent.actions.errors import ActionError, ConfigError, CoordinateError, ModelError, ModelRequestError
from guiagent.actions.families import ModelFamily
from guiagent.actions.geometry import Size
from guiagent.actions.messages import CURRENT_IMAGE
from guiagent.agent.backends.base import ModelBackend, ModelRequest
from guiagent.agent.images import prepare_image

from .grounding_data import BboxFormat, GroundingRecord, load_grounding_records
from .grounding_report import ErrorKind, GroundingResult, GroundingSummary, Tally, summarize

__all__ = [
    "RESULTS_FILE",
    "SUMMARY_FILE",
    "BboxFormat",
    "FamilyChoice",
    "GroundingEvaluation",
    "GroundingRecord",
    "GroundingResult",
    "GroundingSummary",
    "PROMPT_MODES",
    "PromptMode",
    "Tally",
    "evaluate_grounding",
    "ground_record",
    "load_grounding_records",
]

RESULTS_FILE = "results.jsonl"
SUMMARY_FILE = "summary.json"
DEFAULT_MAX_NEW_TOKENS = 256
_SAME_RUN_KEYS = ("data", "model", "bbox_format", "prompt")
PromptMode: TypeAlias = Literal["agent", "official"]
PROMPT_MODES: tuple[PromptMode, ...] = ("agent", "official")
FamilyChoice: TypeAlias = ModelFamily | Callable[[GroundingRecord], ModelFamily]
"""One family for every record, or a function choosing one per record (mobile vs desktop prompts)."""

T = TypeVar("T")
R = TypeVar("R")


def ground_record(
    record: GroundingRecord,
    family: ModelFamily,
    backend: ModelBackend,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    prompt: PromptMode = "agent",
) -> GroundingResult:
    """Ask the model for one record and judge its answer.

    Every failure that belongs to this record is a result, not an exception: a bad reply is scored wrong
    with its reason, a server that failed after its retries or an unusable image leaves it unscored.

    Raises:
        ModelRequestError: the server refused the request itself (4xx); every other record would fail too.
    """
    started = time.perf_counter()
    result: dict[str, Any] = {
        "id": record.id,
        "line": record.line,
        "instruction": record.instruction,
        "platform": record.platform,
        "type": record.data_type,
        "image": str(record.image),
        "bbox": record.bbox,
        "family": family.name,
    }

    def finish(**fields: Any) -> GroundingResult:
        return GroundingResult(**result, **fields, seconds=time.perf_counter() - started)

    try:
        request, screen = _request(record, family, max_new_tokens, result, prompt)
    except (OSError, ValueError, ConfigError, Image.DecompressionBombError) as exc:
        return finish(error=f"cannot use the image: {exc}", error_kind="image")
    try:
        reply = backend.complete(request)
    except ModelRequestError:
        raise
    except ModelError as exc:
        return finish(error=f"{type(exc).__name__}: {exc}", error_kind="model")
    judge = _judge if prompt == "agent" else _judge_official
    answered = judge(record, family, reply.text, screen)
    return finish(
        **answered,
        reply=reply.text,
        model_seconds=reply.seconds,
        tokens={"prompt": reply.prompt_tokens, "completion": reply.completion_tokens},
    )


def _request(
    record: GroundingRecord, family: ModelFamily, max_new_tokens: int, result: dict[str, Any], prompt: PromptMode
) -> tuple[ModelRequest, Size]:
    """The family's agent (or grounding) prompt for this instruction, with the image resized once under its plan."""
    with Image.open(record.image) as opened:
        opened.load()
        screen = Size(*opened.size)
        if (screen.width, screen.height) != record.image_size:
            raise ValueError(f"the image is {screen} now, it was {record.image_size[0]}x{record.image_size[1]}")
        plan = family.image_plan(screen)
        image = prepare_image(opened, plan)
    result["screen"] = (screen.width, screen.height)
    result["model_image"] = (plan.model.width, plan.model.height)
    messages = family.render if prompt == "agent" else family.grounding_messages
    request = ModelRequest(
        messages(record.instruction, screen),
        {CURRENT_IMAGE: image},
        max_new_tokens=max_new_tokens,
        temperature=0.0,
        keep_special_tokens=family.needs_special_tokens,
    )
    return request, screen


def _judge(record: GroundingRecord, family: ModelFamily, text: str, screen: Size) -> dict[str, Any]:
    """The fields a reply earns: its first point in device and model units, and whether it is correct."""
    try:
        parsed, device = family.parse_to_device(text, screen)
    except CoordinateError as exc:
        return _wrong(exc.reason, "coordinate", model_point=exc.point)
    except ActionError as exc:
        return _wrong(exc.reason, "parse")
    for model_action, action in zip(parsed.actions, device, strict=True):
        points = list(action.points())
        if points:
            _, _, x, y = points[0]
            _, _, mx, my = next(iter(model_action.points()))
            return {
                "action": action.type,
                "point": (int(x), int(y)),
                "model_point": (float(mx), float(my)),
                "correct": record.contains(x, y),
            }
    kinds = ", ".join(a.type for a in device)
    first = device[0].type if device else None
    return _wrong(f"the reply holds no action with a point ({kinds})", "no_point", action=first)


def _judge_official(record: GroundingRecord, family: ModelFamily, text: str, screen: Size) -> dict[str, Any]:
    """Like ``_judge``, for an answer in the family's grounding format (a point or a box, no action)."""
    try:
        mx, my = family.parse_grounding(text, screen)
        x, y = family.space(screen).to_device(mx, my, screen, text)
    except CoordinateError as exc:
        return _wrong(exc.reason, "coordinate", model_point=exc.point)
    except ActionError as exc:
        return _wrong(exc.reason, "parse")
    return {"action": "click", "point": (x, y), "model_point": (mx, my), "correct": record.contains(x, y)}


def _wrong(error: str, kind: ErrorKind, **fields: Any) -> dict[str, Any]:
    return {"correct": False, "error": error, "error_kind": kind, **fields}


def evaluate_grounding(
    records: Sequence[GroundingRecord],
    backend: ModelBackend,
    family: FamilyChoice,
    *,
    workers: int = 1,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    prompt: PromptMode = "agent",
) -> Generator[GroundingResult, None, None]:
    """Results for ``records`` as they finish (not in record order), ``workers`` requests at a time.

    Raises:
        ModelRequestError: the server refused a request; results already yielded stand.
    """
    choose: Callable[[GroundingRecord], ModelFamily] = (
        (lambda _record: family) if isinstance(family, ModelFamily) else family
    )
    if prompt not in PROMPT_MODES:
        raise ConfigError(f"prompt must be one of {', '.join(PROMPT_MODES)}, got {prompt!r}")
    return _in_parallel(lambda r: ground_record(r, choose(r), backend, max_new_tokens, prompt), records, workers)


_STOP = object()


def _in_parallel(work: Callable[[T], R], items: Sequence[T], workers: int) -> Generator[R, None, None]:
    """``work`` over ``items`` on daemon threads, yielding results as they finish.

    Not ``ThreadPoolExecutor``: its threads are joined at interpreter exit, so after Ctrl-C the process
    would hang until every request in flight timed out. Here results already finished are kept, requests
    in flight are abandoned, and no more than two items per thread are queued at a time.
    """
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()

    def loop() -> None:
        while (item := tasks.get()) is not _STOP:
            try:
                done.put((True, work(item)))
            except BaseException as exc:  # handed to the main thread, which re-raises it
                done.put((False, exc))

    count = max(1, min(workers, len(items)))
    threads = [threading.Thread(target=loop, name=f"guiagent-grounding-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    pending = iter(items)
    in_flight = 0
    try:
        for item in itertools.islice(pending, 2 * count):
            tasks.put(item)
            in_flight += 1
        while in_flight:
            ok, value = _next_done(done)
            in_flight -= 1
            following = next(pending, _STOP)
            if following is not _STOP:
                tasks.put(following)
                in_flight += 1
            if not ok:
                raise value
            yield value
    finally:
        while True:  # drop what no thread has started; busy threads end with the process
            try:
                tasks.get_nowait()
            except queue.Empty:
                break
        for _ in threads:
            tasks.put(_STOP)


def _next_done(done: queue.SimpleQueue[tuple[bool, Any]]) -> tuple[bool, Any]:
    """The next finished item; waits in short slices so Ctrl-C is seen promptly on every platform."""
    while True:
        try:
            return done.get(timeout=0.2)
        except queue.Empty:
            continue


class GroundingEvaluation:
    """An evaluation writing into a folder: ``results.jsonl`` as results finish, ``summary.json`` at the end.

    Args:
        records: the records to evaluate.
        backend: any model backend (shared by the worker threads).
        family: one family, or a function choosing one per record.
        out_dir: the results folder; created if missing. One that already holds results is refused
            unless ``resume``.
        workers: concurrent requests (for an HTTP server; 1 for an in-process model).
        max_new_tokens: reply length limit.
        prompt: ``"agent"`` (the family's agent prompt) or ``"official"`` (the authors' grounding prompt).
        resume: keep the scored results already in ``out_dir`` and evaluate only the other records
            (unscored ones, from model or image failures, are tried again).
        meta: settings to record in the summary (data file, model, ...).

    Raises:
        ConfigError: ``out_dir`` holds results and ``resume`` is off, or its results cannot be read.
    """

    def __init__(
        self,
        records: Sequence[GroundingRecord],
        backend: ModelBackend,
        family: FamilyChoice,
        out_dir: str | Path,
        *,
        workers: int = 1,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        prompt: PromptMode = "agent",
        resume: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> None:
        if workers < 1:
            raise ConfigError(f"workers must be at least 1, got {workers}")
        self.records = list(records)
        self.backend = backend
        self.family = family
        self.out_dir = Path(out_dir)
        self.workers = workers
        self.max_new_tokens = max_new_tokens
        self.prompt = prompt
        self.meta = {"prompt": prompt, **(meta or {})}
        self.results_path = self.out_dir / RESULTS_FILE
        self.summary_path = self.out_dir / SUMMARY_FILE
        self.previous = self._previous(resume)
        done = {result.id for result in self.previous}
        self.pending = [record for record in self.records if record.id not in done]

    def _previous(self, resume: bool) -> list[GroundingResult]:
        """Scored results already in the folder, for records of this evaluation."""
        if not self.results_path.exists():
            return []
        if not resume:
            raise ConfigError(
                f"{self.out_dir} already holds results; pass --resume to continue that evaluation, "
                "or choose another --out"
            )
        self._check_same_run()
        wanted = {record.id for record in self.records}
        latest: dict[str, GroundingResult] = {}
        lines = self.results_path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                result = GroundingResult.model_validate_json(line)
            except ValueError:
                if number == len(lines):
                    continue  # a line cut short when the last run was killed
                raise ConfigError(f"{self.results_path}, line {number}: not a grounding result") from None
            latest[result.id] = result
        return [r for r in latest.values() if r.scored and r.id in wanted]

    def _check_same_run(self) -> None:
        """Refuse to resume another model's (or data file's) evaluation: the results would mix."""
        try:
            earlier = json.loads(self.summary_path.read_text(encoding="utf-8")).get("meta", {})
        except (OSError, ValueError, AttributeError):
            return  # no summary yet (the last run was killed hard): nothing to compare
        for key in _SAME_RUN_KEYS:
            before, now = earlier.get(key), self.meta.get(key)
            if before is not None and now is not None and before != now:
                raise ConfigError(
                    f"{self.out_dir} was evaluated with {key} {before!r}, not {now!r}; resuming would mix "
                    "results: choose another --out"
                )

    def run(self, on_result: Callable[[GroundingResult], None] | None = None) -> GroundingSummary:
        """Evaluate the pending records; returns the summary (``interrupted`` after Ctrl-C).

        Raises:
            ModelRequestError: the server refused a request; results so far and a partial summary
                (with ``error``) are on disk.
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        started = _now()
        results = list(self.previous)
        interrupted = False
        error: str | None = None
        stream = evaluate_grounding(
            self.pending,
            self.backend,
            self.family,
            workers=self.workers,
            max_new_tokens=self.max_new_tokens,
            prompt=self.prompt,
        )
        try:
            with closing(stream), self.results_path.open("a", encoding="utf-8") as out:
                for result in stream:
                    out.write(result.model_dump_json() + "\n")
                    out.flush()
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
        except KeyboardInterrupt:
            interrupted = True
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            meta = {**self.meta, "started_at": started, "finished_at": _now(), "workers": self.workers}
            meta["families"] = sorted({r.family for r in results})
            summary = summarize(results, len(self.records), interrupted=interrupted, error=error, meta=meta)
            self.summary_path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return summary


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

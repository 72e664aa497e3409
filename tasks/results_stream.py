"""One ``results.json`` per suite, rewritten as each task finishes, resumable after a crash, shardable.

Why its own module: the in-process pool and the Ray driver both stream results into one file, and both
must survive being killed (``--resume`` reads that file back and skips what finished). The file keeps the
shape ``tasks.report`` reads (``SuiteRun.save`` writes the same), plus what a pool adds:

* per row: ``attempt`` (2 when the task was retried after its device failed), ``retries`` (every earlier
  attempt: device, status, reason, run folder, so a retry is never hidden) and ``node`` (the Ray node);
* top level: ``devices`` (each device's state: healthy, dirty, quarantined, with the reason and its task
  count), ``shard`` and ``resumed_at``.

A row whose status is in ``RERUN_STATUSES`` (never started, stopped by Ctrl-C, lost with its device) does
not count as finished: ``--resume`` runs it again. Every other row, failed or not, is a result and is kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError
from guiagent.agent.files import write_atomic

from .runner import TaskResult
from .spec import TaskSpec
from .suite import Suite

__all__ = [
    "DEVICE_LOST",
    "INTERRUPTED",
    "NOT_RUN",
    "RERUN_STATUSES",
    "BackgroundReport",
    "PoolResult",
    "ResultsFile",
    "parse_shard",
    "select_shard",
]

NOT_RUN = "not_run"
INTERRUPTED = "interrupted"
DEVICE_LOST = "device_lost"
"""A task whose device (or Ray node) failed on every attempt; its reason names each failure."""
RERUN_STATUSES = frozenset({NOT_RUN, INTERRUPTED, DEVICE_LOST})


@dataclass
class PoolResult(TaskResult):
    """A ``TaskResult`` with what a pool adds: which attempt this is, the earlier ones, and the Ray node."""

    attempt: int = 1
    retries: list[dict[str, Any]] = field(default_factory=list)
    node: str = ""

    @classmethod
    def of(cls, result: TaskResult, **extra: Any) -> PoolResult:
        """Wrap a runner result (its fields copied) with pool fields."""
        values = {f.name: getattr(result, f.name) for f in fields(TaskResult)}
        if isinstance(result, PoolResult):
            values.update(attempt=result.attempt, retries=list(result.retries), node=result.node)
        values.update(extra)
        return cls(**values)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PoolResult:
        """Read a row back from ``results.json`` (unknown keys ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in known})

    def as_retry(self, quarantined: bool) -> dict[str, Any]:
        """This attempt as an entry of the next attempt's ``retries``."""
        return {
            "attempt": self.attempt,
            "device": self.device,
            "node": self.node,
            "status": self.status,
            "reason": self.reason,
            "run_dir": self.run_dir,
            "seconds": round(self.seconds, 3),
            "quarantined": quarantined,
        }


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``: the second of four shards, counted from 1.

    Raises:
        ConfigError: not ``I/N`` with ``1 <= I <= N``.
    """
    index, _, total = text.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        raise ConfigError(f"--shard takes I/N (e.g. 1/4), got {text!r}") from None
    if not 1 <= i <= n:
        raise ConfigError(f"--shard {text}: I must be between 1 and N")
    return i, n


def select_shard(tasks: Sequence[TaskSpec], shard: tuple[int, int] | None) -> tuple[TaskSpec, ...]:
    """Every N-th task starting at the I-th: shards are disjoint, cover the suite, and stay stable when
    the suite's order does."""
    if shard is None:
        return tuple(tasks)
    i, n = shard
    return tuple(tasks[i - 1 :: n])


class ResultsFile:
    """``results.json`` in ``out_dir``, saved atomically after every change; thread-safe.

    Args:
        out_dir: the results folder (created).
        suite: the suite (row order follows it).
        model: what served the model (``{"id": ..., "backend": ...}``).
        family: the family's name.
        resume: keep the finished rows of a ``results.json`` already there (``--resume``).
        shard: ``(i, n)`` when this run is one shard of the suite.
        on_save: called with the file's path after each save (the Ray driver rewrites the report there).
    """

    def __init__(
        self,
        out_dir: Path,
        suite: Suite,
        model: dict[str, Any],
        family: str,
        *,
        resume: bool = False,
        shard: tuple[int, int] | None = None,
        on_save: Callable[[Path], None] | None = None,
    ) -> None:
        self.path = out_dir / "results.json"
        self.suite = suite
        self.model = model
        self.family = family
        self.shard = shard
        self.on_save = on_save
        self.started_at = time.time()
        self.finished_at: float | None = None
        self.resumed_at: list[float] = []
        self.devices: list[dict[str, Any]] = []
        self._rows: dict[str, PoolResult] = {}
        self._order = {t.id: i for i, t in enumerate(suite.tasks)}
        self._lock = threading.Lock()
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume and self.path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"--resume: cannot read {self.path}: {exc}") from None
        if data.get("suite") != self.suite.name:
            raise ConfigError(f"--resume: {self.path} is suite {data.get('suite')!r}, not {self.suite.name!r}")
        self.started_at = float(data.get("started_at") or self.started_at)
        self.resumed_at = [*data.get("resumed_at", []), time.time()]
        for row in data.get("results", []):
            if row.get("status") not in RERUN_STATUSES and row.get("task_id") in self._order:
                self._rows[row["task_id"]] = PoolResult.from_row(row)

    @property
    def finished(self) -> set[str]:
        """Ids of tasks with a result that counts (not in ``RERUN_STATUSES``)."""
        with self._lock:
            return {k for k, r in self._rows.items() if r.status not in RERUN_STATUSES}

    @property
    def results(self) -> list[PoolResult]:
        """Every row, in suite order."""
        with self._lock:
            return sorted(self._rows.values(), key=lambda r: self._order.get(r.task_id, 0))

    def add(self, result: TaskResult) -> PoolResult:
        """Record a task's row (replacing an earlier row of the same task) and save."""
        row = result if isinstance(result, PoolResult) else PoolResult.of(result)
        with self._lock:
            self._rows[row.task_id] = row
            self._save_locked()
        return row

    def add_missing(self, tasks: Iterable[TaskSpec], status: str, reason: str) -> None:
        """Give every task without a row one, so no task is ever missing from the file."""
        with self._lock:
            for task in tasks:
                if task.id not in self._rows:
                    self._rows[task.id] = PoolResult(task.id, task.goal, "", False, status, reason)
            self._save_locked()

    def set_devices(self, devices: list[dict[str, Any]]) -> None:
        """Replace the ``devices`` section (pool states) and save."""
        with self._lock:
            self.devices = devices
            self._save_locked()

    def save(self, finished: bool = False) -> Path:
        """Save now; ``finished`` stamps ``finished_at``."""
        with self._lock:
            if finished:
                self.finished_at = time.time()
            return self._save_locked()

    def _save_locked(self) -> Path:
        rows = sorted(self._rows.values(), key=lambda r: self._order.get(r.task_id, 0))
        data: dict[str, Any] = {
            "suite": self.suite.name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "model": self.model,
            "family": self.family,
            "results": [asdict(r) for r in rows],
            "devices": self.devices,
        }
        if self.shard:
            data["shard"] = f"{self.shard[0]}/{self.shard[1]}"
        if self.resumed_at:
            data["resumed_at"] = self.resumed_at
        path = write_atomic(self.path, json.dumps(data, indent=2, ensure_ascii=False))
        if self.on_save is not None:
            self.on_save(path)
        return path

    @property
    def success_rate(self) -> float:
        """Fraction of rows that succeeded."""
        rows = self.results
        return sum(r.success for r in rows) / len(rows) if rows else 0.0


class BackgroundReport:
    """Rewrites the HTML report after saves, on its own thread, so the driver never waits for it.

    A report renders each new run's page (screenshots downscaled and embedded): a few hundred ms that would
    otherwise delay handing the freed device its next task. Requests that arrive while a report is being
    written are folded into one more write. ``close()`` writes the final report and stops the thread.
    """

    def __init__(self, write: Callable[[Path], Any]) -> None:
        self._write = write
        self._wanted: Path | None = None
        self._changed = threading.Condition()
        self._closed = False
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="suite-report", daemon=True)
        self._thread.start()

    def __call__(self, path: Path) -> None:
        """Ask for a report of ``path`` (an ``on_save`` for ``ResultsFile``)."""
        with self._changed:
            self._wanted = path
            self._changed.notify()

    def _loop(self) -> None:
        while True:
            with self._changed:
                while self._wanted is None and not self._closed:
                    self._changed.wait()
                path, self._wanted = self._wanted, None
                if path is None:
                    return
            try:
                self._write(path)
            except Exception as exc:  # noqa: BLE001 - a report that fails must not stop the suite; say why
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def close(self, final: Path | None = None) -> None:
        """Stop the thread after pending writes; then write ``final`` (if given) here and now."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join()
        if final is not None:
            self._write(final)

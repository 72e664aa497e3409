"""Self-contained HTML reports: one file per run, one per suite, readable with no server and no network.

A run report (``tasks.report_run``) opens with the task, what kind of run it was (a replay says so), and a
timeline of thumbnails; then the overview (status, model, family, time per stage, tokens) and every step:
its screenshot with numbered markers (``tasks.report_figure``: a ring that leaves the target visible), the
list of its actions, the thought, the raw reply, the parsed actions in model and device space, errors,
notes, tokens and timings. A click on a thumbnail or a screenshot opens the step full size. Screenshots
are embedded as downscaled JPEG data URIs; markers are placed in *percentages* of the image, so they sit
on the action's device pixel at any zoom. Every marker carries ``data-step``, ``data-index``, ``data-x``,
``data-y`` (device pixels) and a class per action type, so tools (and tests) can find them.

Model replies are untrusted: every piece of recorded text goes through ``html.escape``, and the page
carries a Content-Security-Policy that forbids scripts altogether, so a reply containing ``<script>``
shows as text. Long replies and prompts collapse with ``<details>``; nothing needs JavaScript.

Suite results file (``results.json``, written by the suite runner; validated by ``SuiteResults``)::

    {"suite": str, "started_at": float, "finished_at": float, "model": {...}, "family": str,
     "results": [{"task_id": str, "goal": str, "device": str, "success": bool, "status": str,
                  "reason": str, "steps": int, "seconds": float, "timings": {stage: seconds},
                  "prompt_tokens": int, "completion_tokens": int,
                  "run_dir": str,            # relative to the results file's folder, or absolute
                  "checks": [{"name": str, "passed": bool, "detail": str}],
                  # written by device pools (tasks.results_stream), optional:
                  "attempt": int, "retries": [{"attempt", "device", "status", "reason", "run_dir", ...}],
                  "node": str}],
     "devices": [{"name": str, "kind": str, "state": str, "reason": str, "tasks": int}]}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guiagent.actions.errors import ConfigError
from guiagent.agent.records import stage_totals
from guiagent.agent.trajectory import RUN_FILE, STEPS_FILE, Trajectory

from .pool_report import attempt_note, pool_section
from .report_figure import MAX_IMAGE_WIDTH
from .report_html import escape as _e
from .report_html import inline as _inline
from .report_html import page as _page
from .report_html import seconds as _seconds
from .report_html import stage_table as _stage_table
from .report_html import status_badge as _status
from .report_html import when as _when
from .report_html import write_page
from .report_run import run_body, run_title

__all__ = [
    "MAX_IMAGE_WIDTH",
    "REPORT_FILE",
    "CheckRow",
    "SuiteResults",
    "TaskRow",
    "load_suite_results",
    "write_run_report",
    "write_suite_report",
]

REPORT_FILE = "report.html"
_SUITE_COLUMNS = ("Task", "Goal", "Device", "Result", "Status", "Steps", "Time", "Tokens", "Checks", "Run")


class CheckRow(BaseModel):
    """One success check of a suite task: its name, whether it passed, and what it saw."""

    model_config = ConfigDict(extra="ignore")

    name: str
    passed: bool
    detail: str = ""


class TaskRow(BaseModel):
    """One task's row in a suite results file (``tasks.runner.TaskResult`` as JSON)."""

    model_config = ConfigDict(extra="ignore")

    task_id: str
    goal: str = ""
    device: str = ""
    success: bool
    status: str = ""
    reason: str = ""
    steps: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = Field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    run_dir: str | None = None
    checks: list[CheckRow] = Field(default_factory=list)
    attempt: int = 1
    retries: list[dict[str, Any]] = Field(default_factory=list)
    node: str = ""


class SuiteResults(BaseModel):
    """A suite results file as a whole (see the module docstring for the JSON shape)."""

    model_config = ConfigDict(extra="ignore")

    suite: str
    started_at: float | None = None
    finished_at: float | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    family: str | dict[str, Any] = ""
    results: list[TaskRow] = Field(default_factory=list)
    devices: list[dict[str, Any]] = Field(default_factory=list)


def write_run_report(run_folder: str | Path, output: str | Path | None = None) -> Path:
    """Render one run folder as a single HTML file.

    Args:
        run_folder: a trajectory folder (``run.json``, ``steps.jsonl``, ``step-NNNN.png``). Runs that
            are still "running" (killed) render too, under a banner saying so.
        output: where to write; defaults to ``run_folder/report.html``.

    Returns:
        The path written.

    Raises:
        ConfigError: ``run_folder`` is not a run folder, or its ``run.json`` does not validate.
    """
    folder = Path(run_folder)
    try:
        trajectory = Trajectory.load(folder)
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from None
    except ValidationError as exc:
        raise ConfigError(f"{folder / RUN_FILE} is not a valid run record: {exc}") from None
    target = Path(output) if output is not None else folder / REPORT_FILE
    write_page(target, _page(run_title(trajectory.run), run_body(trajectory)))
    return target


def load_suite_results(results_json: str | Path) -> SuiteResults:
    """Read and validate a suite results file.

    Raises:
        ConfigError: the file is missing, is not JSON, or does not have the documented shape.
    """
    path = Path(results_json)
    try:
        return SuiteResults.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read suite results {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        raise ConfigError(f"{path} is not a guiagent suite results file: {exc}") from None


def write_suite_report(results_json: str | Path, output: str | Path | None = None) -> Path:
    """Render a suite results file as one HTML table linking to each run's report.

    Run reports that are missing (or older than their run's files) are written first, into each run
    folder, so every link works.

    Args:
        results_json: the suite results file (shape in the module docstring).
        output: where to write; defaults to ``report.html`` next to ``results_json``.

    Returns:
        The path written.

    Raises:
        ConfigError: the results file is missing or malformed.
    """
    path = Path(results_json)
    suite = load_suite_results(path)
    target = Path(output) if output is not None else path.parent / REPORT_FILE
    links: list[str | None] = []
    for result in suite.results:
        links.append(_run_report_link(path.parent, result.run_dir, target.parent))
    passed = sum(r.success for r in suite.results)
    title = f"{suite.suite} · {passed}/{len(suite.results)} passed"
    body = _suite_body(suite, links) + pool_section(
        suite.devices, suite.results, lambda run_dir: _run_report_link(path.parent, run_dir, target.parent)
    )
    write_page(target, _page(title, body))
    return target


# -- suite report -----------------------------------------------------------------------------------


def _run_report_link(base: Path, run_dir: str | None, report_folder: Path) -> str | None:
    """Write the run's report if missing or stale and return a link relative to the suite report."""
    if not run_dir:
        return None
    folder = Path(run_dir) if Path(run_dir).is_absolute() else base / run_dir
    if not (folder / RUN_FILE).exists():
        return None
    report = folder / REPORT_FILE
    sources = [folder / RUN_FILE, folder / STEPS_FILE]
    newest = max(p.stat().st_mtime for p in sources if p.exists())
    if not report.exists() or report.stat().st_mtime < newest:
        try:
            write_run_report(folder)
        except ConfigError:  # a run.json that does not validate: list the task, without a link
            return None
    try:
        return quote(Path(os.path.relpath(report.resolve(), report_folder.resolve())).as_posix())
    except ValueError:  # another drive on Windows
        return report.resolve().as_uri()


def _suite_body(suite: SuiteResults, links: list[str | None]) -> str:
    results = suite.results
    passed = sum(r.success for r in results)
    rate = f"{passed}/{len(results)} passed ({100 * passed / len(results):.0f}%)" if results else "no tasks"
    wall = _seconds(suite.finished_at - suite.started_at) if suite.started_at and suite.finished_at else "—"
    facts = [
        ("Success rate", f'<b id="success-rate">{_e(rate)}</b>'),
        ("Model", _inline(suite.model)),
        ("Family", _inline(suite.family) if isinstance(suite.family, dict) else _e(suite.family)),
        ("Started", _e(_when(suite.started_at))),
        ("Wall time", _e(wall)),
        ("Task time", _e(_seconds(sum(r.seconds for r in results)))),
        ("Time per stage", _stage_table(stage_totals(r.timings for r in results))),
        (
            "Tokens",
            f"{sum(r.prompt_tokens or 0 for r in results):,} prompt · "
            f"{sum(r.completion_tokens or 0 for r in results):,} completion",
        ),
    ]
    rows = []
    for result, link in zip(results, links, strict=True):
        verdict = ("passed", "pass") if result.success else ("failed", "fail")
        run = f'<a class="run-link" href="{_e(link)}">report</a>' if link else "<i>no run folder</i>"
        checks = "".join(
            f'<li>{"✓✗"[not c.passed]} {_e(c.name)} <span class="muted">{_e(c.detail)}</span></li>'
            for c in result.checks
        )
        tokens = f"{result.prompt_tokens or 0:,} / {result.completion_tokens or 0:,}"
        rows.append(
            f'<tr data-task="{_e(result.task_id)}"><td>{_e(result.task_id)}</td><td>{_e(result.goal)}</td>'
            f'<td>{_e(result.device)}</td><td><span class="badge {verdict[0]}">{verdict[1]}</span></td>'
            f"<td>{_status(result.status)}<br>{_e(result.reason)}{attempt_note(result.attempt, result.retries)}</td>"
            f'<td class="num">{result.steps}</td><td class="num">{_seconds(result.seconds)}</td>'
            f'<td class="num">{tokens}</td><td><ul class="notes">{checks}</ul></td><td>{run}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in _SUITE_COLUMNS)
    fact_html = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    banner = "" if suite.finished_at else '<div class="banner" id="not-finished">This suite has not finished.</div>'
    return (
        f"<h1>Suite {_e(suite.suite)}</h1>{banner}"
        f'<dl class="facts">{fact_html}</dl><h2>Tasks</h2>'
        f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )

"""Self-contained HTML reports: one file per run, one per suite, readable with no server and no network.

A run report shows the overview (task, status, model, family, time per stage, tokens) and then every step:
its screenshot with the actions drawn over it, the thought, the raw reply, the parsed actions in model
and device space, errors, notes, tokens and timings. Screenshots are embedded as downscaled JPEG data
URIs; the action markers are SVG/HTML placed in *percentages* of the image, so they sit on the action's
device pixel at any zoom and any image scale. Every marker carries ``data-step``, ``data-x``, ``data-y``
(device pixels) and a class per action type, so tools (and tests) can find them.

Model replies are untrusted: every piece of recorded text goes through ``html.escape``, and the page
carries a Content-Security-Policy that forbids scripts altogether, so a reply containing ``<script>``
shows as text. Long replies and prompts collapse with ``<details>``; nothing needs JavaScript.

Suite results file (``results.json``, written by the suite runner; validated by ``SuiteResults``)::

    {"suite": str, "started_at": float, "finished_at": float, "model": {...}, "family": str,
     "results": [{"task_id": str, "goal": str, "device": str, "success": bool, "status": str,
                  "reason": str, "steps": int, "seconds": float, "timings": {stage: seconds},
                  "prompt_tokens": int, "completion_tokens": int,
                  "run_dir": str,            # relative to the results file's folder, or absolute
                  "checks": [{"name": str, "passed": bool, "detail": str}]}]}
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import time
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guiagent.actions.errors import ConfigError
from guiagent.agent.annotate import marker_points
from guiagent.agent.records import STAGES, StepRecord
from guiagent.agent.trajectory import RUN_FILE, STEPS_FILE, Trajectory

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
MAX_IMAGE_WIDTH = 720
"""Screenshots wider than this are downscaled before embedding (keeps a 50-step report a few MB)."""
_JPEG_QUALITY = 85
_OPEN_REPLY_CHARS = 1500
"""Replies up to this long are shown expanded; longer ones start collapsed."""
_SUITE_COLUMNS = ("Task", "Goal", "Device", "Result", "Status", "Steps", "Time", "Tokens", "Checks", "Run")
_LABELLED = ("long_press", "double_click", "triple_click", "right_click", "middle_click", "drag", "move", "scroll")


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


class SuiteResults(BaseModel):
    """A suite results file as a whole (see the module docstring for the JSON shape)."""

    model_config = ConfigDict(extra="ignore")

    suite: str
    started_at: float | None = None
    finished_at: float | None = None
    model: dict[str, Any] = Field(default_factory=dict)
    family: str | dict[str, Any] = ""
    results: list[TaskRow] = Field(default_factory=list)


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
    run = trajectory.run
    title = f"{run.status} · {_short(run.task, 80)}"
    _write(target, _page(title, _run_body(trajectory)))
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
    _write(target, _page(title, _suite_body(suite, links)))
    return target


# -- run report -------------------------------------------------------------------------------------


def _run_body(trajectory: Trajectory) -> str:
    run, steps = trajectory.run, trajectory.steps
    parts = [f"<h1>{_e(run.task) or 'guiagent run'}</h1>"]
    if run.status == "running":
        parts.append(
            '<div class="banner" id="not-finished">This run did not finish: its status is still "running" '
            f"(the process was killed, or is still going). Showing the {len(steps)} step(s) recorded.</div>"
        )
    if trajectory.skipped_lines:
        parts.append(
            f'<div class="banner">{trajectory.skipped_lines} unreadable line(s) of {STEPS_FILE} were skipped.</div>'
        )
    parts.append(_overview(trajectory))
    if steps:
        items = "".join(f'<li><a href="#step-{s.index}">{_e(_step_summary(s))}</a></li>' for s in steps)
        parts.append(f'<nav class="steps"><h2>Steps</h2><ol>{items}</ol></nav>')
    else:
        parts.append('<p class="muted">No steps were recorded.</p>')
    parts.extend(_step_html(trajectory, step) for step in steps)
    return "\n".join(parts)


def _overview(trajectory: Trajectory) -> str:
    run, steps = trajectory.run, trajectory.steps
    if run.finished_at is not None:
        wall = _seconds(run.finished_at - run.started_at)
    elif steps:
        last = steps[-1]
        wall = f"at least {_seconds(last.started_at + last.total_seconds - run.started_at)} (did not finish)"
    else:
        wall = "unknown (did not finish)"
    prompt = sum(s.prompt_tokens or 0 for s in steps)
    completion = sum(s.completion_tokens or 0 for s in steps)
    estimated = sum(s.estimated_prompt_tokens or 0 for s in steps if s.prompt_tokens is None)
    tokens = f"{prompt:,} prompt · {completion:,} completion"
    if estimated:
        tokens += f" · {estimated:,} prompt (estimated, where the backend did not count)"
    facts: list[tuple[str, str]] = [
        ("Task", _e(run.task)),
        ("Status", _status(run.status)),
        ("Reason", _e(run.reason) or '<span class="muted">—</span>'),
    ]
    if run.answer is not None:
        facts.append(("Answer", _e(run.answer)))
    facts += [
        ("Device", _inline(run.device)),
        ("Model", _inline(run.model)),
        ("Family", _inline(run.family)),
        ("Started", _e(_when(run.started_at))),
        ("Finished", _e(_when(run.finished_at)) if run.finished_at else "—"),
        ("Wall time", _e(wall)),
        ("Steps", f"{len(steps)} recorded"),
        ("Time per stage", _stage_table(_stage_totals(s.timings for s in steps))),
        ("Tokens", _e(tokens)),
        ("Run", f"{_e(run.id)} · {_e(run.kind)}" + (f" of {_e(run.source)}" if run.source else "")),
        ("guiagent", _e(run.guiagent_version) or "—"),
    ]
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    settings = ""
    if run.settings:
        settings = f"<details><summary>Settings</summary>{_kv_table(run.settings)}</details>"
    return f'<h2>Overview</h2><dl class="facts" id="overview">{rows}</dl>{settings}'


def _step_html(trajectory: Trajectory, step: StepRecord) -> str:
    error = step.error
    head = [f"<h3>Step {step.index}</h3>", f"<span>{_e(_step_summary(step))}</span>"]
    head.append(f'<span class="muted">{_seconds(step.total_seconds)}</span>')
    if error:
        head.append('<span class="badge failed">error</span>')
    if step.dry_run:
        head.append('<span class="badge status-running">dry run</span>')
    info: list[str] = []
    if step.thought:
        info.append(f'<h4>Thought</h4><div class="thought">{_e(step.thought)}</div>')
    if error:
        told = "sent back to the model" if error.sent_to_model else "not sent to the model"
        info.append(f'<div class="error"><b>{_e(error.type)}</b>: {_e(error.message)} <i>({told})</i></div>')
    if step.reply is not None:
        opened = " open" if len(step.reply) <= _OPEN_REPLY_CHARS else ""
        info.append(
            f"<details{opened}><summary>Raw reply ({len(step.reply):,} chars)</summary>"
            f'<pre class="reply">{_e(step.reply)}</pre></details>'
        )
    info.append(_actions_html(step))
    if step.notes:
        info.append("<h4>Notes</h4><ul class=notes>" + "".join(f"<li>{_e(n)}</li>" for n in step.notes) + "</ul>")
    info.append(f"<h4>Tokens and time</h4><div>{_e(_step_tokens(step))}</div>{_stage_table(step.timings)}")
    if step.prompt:
        info.append(f"<details><summary>Prompt ({len(step.prompt)} messages)</summary>{_prompt_html(step)}</details>")
    classes = "step has-error" if error else "step"
    return (
        f'<section class="{classes}" id="step-{step.index}" data-step="{step.index}">'
        f'<div class="step-head">{"".join(head)}</div>'
        f'<div class="step-body">{_figure(trajectory, step)}<div class="info">{"".join(info)}</div></div></section>'
    )


def _figure(trajectory: Trajectory, step: StepRecord) -> str:
    path = trajectory.screenshot_path(step)
    if path is None:
        return '<div class="noshot">no screenshot recorded for this step</div>'
    try:
        uri, (width, height) = _embed(path)
    except OSError as exc:
        return f'<div class="noshot">screenshot {_e(step.screenshot)} unavailable: {_e(exc.strerror or exc)}</div>'
    screen_w = int(step.screen.get("width") or width)
    screen_h = int(step.screen.get("height") or height)
    marks, labels = _markers(step, screen_w, screen_h)
    return (
        f'<figure class="shot" data-step="{step.index}" data-screen-width="{screen_w}" '
        f'data-screen-height="{screen_h}"><img src="{uri}" alt="step {step.index} screenshot">'
        f'<svg class="overlay" xmlns="http://www.w3.org/2000/svg">{marks}</svg>{labels}</figure>'
    )


def _markers(step: StepRecord, screen_w: int, screen_h: int) -> tuple[str, str]:
    """SVG marks (rings, arrows) and HTML labels for a step's device actions, positioned in percent."""
    marks: list[str] = []
    labels: list[str] = []
    many = len(step.actions_device) > 1
    stacked = 0
    for number, action in enumerate(step.actions_device, start=1):
        kind = str(action.get("type", "action"))
        points = marker_points(action)
        attrs = f'data-step="{step.index}" data-index="{number}" data-type="{_e(kind)}"'
        for name in ("x", "y", "x2", "y2"):
            if action.get(name) is not None:
                attrs += f' data-{name}="{_e(action[name])}"'
        pct = [(_pct(x, screen_w), _pct(y, screen_h)) for x, y in points]
        shapes = []
        if len(pct) == 2:
            (x1, y1), (x2, y2) = pct
            line = f'x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"'
            shapes.append(f'<line class="path-halo" {line}/><line class="path" {line} marker-end="url(#ga-arrow)"/>')
            shapes.append(f'<circle class="end" cx="{x2}" cy="{y2}" r="4"/>')
        if pct:
            cx, cy = pct[0]
            shapes.append(f'<circle class="halo" cx="{cx}" cy="{cy}" r="14"/>')
            shapes.append(f'<circle class="ring" cx="{cx}" cy="{cy}" r="14"/>')
            shapes.append(f'<circle class="dot" cx="{cx}" cy="{cy}" r="{7 if many else 3}"/>')
            if many:
                shapes.append(f'<text class="num" x="{cx}" y="{cy}">{number}</text>')
            marks.append(f'<g class="action {_e(kind)}" {attrs}>{"".join(shapes)}</g>')
        text = _action_label(kind, action)
        if not text:
            continue
        if pct:
            where = f'class="label at {_e(kind)}" style="left:{pct[0][0]};top:{pct[0][1]}"'
        else:
            where = f'class="label action {_e(kind)}" style="left:8px;top:calc(8px + {stacked} * 2em)"'
            stacked += 1
        prefix = f"{number}. " if many else ""
        labels.append(f"<div {where} {attrs}>{_e(prefix + text)}</div>")
    return "".join(marks), "".join(labels)


def _action_label(kind: str, action: dict[str, Any]) -> str:
    if kind == "type":
        return f'type "{action.get("text", "")}"'
    if kind == "key":
        return "key " + "+".join(str(k) for k in action.get("keys", []))
    if kind in ("system_button", "open_app", "wait", "terminate", "answer", "call_user"):
        detail = action.get("button") or action.get("name") or action.get("status") or action.get("text") or ""
        if kind == "wait":
            detail = f"{action.get('seconds', '')} s"
        return f"{kind} {detail}".strip()
    if kind == "scroll":
        return f"scroll {action.get('direction', '')}"
    return kind if kind in _LABELLED else ""


def _actions_html(step: StepRecord) -> str:
    if not step.actions_model and not step.actions_device:
        return '<h4>Actions</h4><div class="muted">none parsed</div>'
    space = next((str(a.get("space")) for a in step.actions_model if a.get("space")), "model")
    executed = f"executed {step.executed} of {len(step.actions_device)}"
    return (
        f'<h4>Actions <span class="muted">({_e(executed)})</span></h4>'
        f"<div>model space ({_e(space)}):</div>{_json_lines(step.actions_model)}"
        f"<div>device pixels:</div>{_json_lines(step.actions_device)}"
    )


def _prompt_html(step: StepRecord) -> str:
    parts = []
    for message in step.prompt:
        texts = []
        for part in message.get("content", []):
            if part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            else:
                texts.append(f"[image {part.get('key', '')} {part.get('width', '?')}x{part.get('height', '?')}]")
        parts.append(f"<div><b>{_e(message.get('role', ''))}</b></div><pre>{_e(''.join(texts))}</pre>")
    return "".join(parts)


def _step_summary(step: StepRecord) -> str:
    described = []
    for action in step.actions_device:
        kind = str(action.get("type", "?"))
        points = marker_points(action)
        where = " → ".join(f"({x}, {y})" for x, y in points)
        label = _action_label(kind, action)
        described.append(" ".join(p for p in (label or kind, where) if p))
    text = "; ".join(described) or "no action"
    return _short(text, 100) + (" ⚠ " + step.error.type if step.error else "")


def _step_tokens(step: StepRecord) -> str:
    prompt = step.prompt_tokens if step.prompt_tokens is not None else step.estimated_prompt_tokens
    estimated = " (estimated)" if step.prompt_tokens is None and prompt is not None else ""
    image = step.model_image
    seen = f" · model image {image.get('width')}x{image.get('height')}" if image.get("width") else ""
    return (
        f"prompt {prompt if prompt is not None else '—'}{estimated} · "
        f"completion {step.completion_tokens if step.completion_tokens is not None else '—'}{seen}"
    )


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
        ("Time per stage", _stage_table(_stage_totals(r.timings for r in results))),
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
            f"<td>{_status(result.status)}<br>{_e(result.reason)}</td>"
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


# -- shared pieces ----------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    template = Template(resources.files("guiagent.tasks").joinpath("report_template.html").read_text("utf-8"))
    return template.substitute(title=_e(title), body=body, generator=_e("guiagent report"))


def _write(target: Path, text: str) -> None:
    """Write atomically, so a report being regenerated is never seen half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)


def _embed(path: Path) -> tuple[str, tuple[int, int]]:
    """A screenshot as a JPEG data URI no wider than ``MAX_IMAGE_WIDTH``, and its original size."""
    with Image.open(path) as image:
        size = image.size
        picture = image.convert("RGB")
    if picture.width > MAX_IMAGE_WIDTH:
        height = max(1, round(picture.height * MAX_IMAGE_WIDTH / picture.width))
        picture = picture.resize((MAX_IMAGE_WIDTH, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"), size


def _stage_totals(timings: Iterable[dict[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for one in timings:
        for stage, seconds in one.items():
            totals[stage] = totals.get(stage, 0.0) + seconds
    order = {stage: i for i, stage in enumerate(STAGES)}
    return dict(sorted(totals.items(), key=lambda kv: order.get(kv[0], len(order))))


def _stage_table(timings: dict[str, float]) -> str:
    if not timings:
        return '<span class="muted">no timings</span>'
    total = sum(timings.values()) or 1.0
    rows = [(_e(stage), f"{seconds:.3f} s", f"{100 * seconds / total:.0f}%") for stage, seconds in timings.items()]
    rows.append(("<b>total</b>", f"<b>{sum(timings.values()):.3f} s</b>", ""))
    cells = "".join(f'<tr><td>{a}</td><td class="num">{b}</td><td class="num">{c}</td></tr>' for a, b, c in rows)
    return f'<table class="timings">{cells}</table>'


def _kv_table(data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(_compact(v))}</td></tr>" for k, v in data.items())
    return f'<table class="kv">{rows}</table>'


def _inline(data: dict[str, Any]) -> str:
    return " · ".join(f'<span class="muted">{_e(k)}</span> {_e(_compact(v))}' for k, v in data.items()) or "—"


def _json_lines(actions: list[dict[str, Any]]) -> str:
    return f"<pre>{_e(chr(10).join(json.dumps(a, ensure_ascii=False) for a in actions) or '—')}</pre>"


def _status(status: str) -> str:
    return f'<span class="badge status-{_e(status)}">{_e(status or "unknown")}</span>'


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _pct(value: float, size: int) -> str:
    return f"{100 * value / size:.4f}%" if size else "0%"


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(stamp)) if stamp else "—"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _e(value: Any) -> str:
    """Escape anything for HTML text and attribute values (model output is untrusted)."""
    return html.escape("" if value is None else str(value), quote=True)

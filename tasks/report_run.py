"""The body of one run's report: what the run was, a timeline of its steps, then every step in full.

Read at a glance, top to bottom: the task and, for a replay, one sentence saying so ("A replay of RUN, no
model"); a strip with one thumbnail per step (action symbol, time since the start; a click opens the step
full size); the overview; then each step — its picture with numbered marks and the list of what they were,
the thought, errors, the raw reply, the actions, notes, tokens and time.

A field with nothing to say is left out rather than shown as a dash: a replay has no model, so no model
space, no tokens, no family; a step of a run whose backend counted no tokens shows only its time.
"""

from __future__ import annotations

from pathlib import Path

from guiagent.agent.describe import describe_actions
from guiagent.agent.records import RunRecord, StepRecord, stage_totals
from guiagent.agent.trajectory import STEPS_FILE, Trajectory

from .report_figure import figure_html, timeline_html
from .report_html import escape as _e
from .report_html import inline, json_lines, kv_table, seconds, short, stage_table, status_badge, when

__all__ = ["run_body", "run_title"]

_OPEN_REPLY_CHARS = 1500
"""Replies up to this long are shown expanded; longer ones start collapsed."""


def run_title(run: RunRecord) -> str:
    """The page title: status and task (a replay says so)."""
    prefix = "replay · " if run.kind == "replay" else ""
    return f"{run.status} · {prefix}{short(run.task, 80)}"


def run_body(trajectory: Trajectory) -> str:
    """Everything inside ``<body>`` for one run."""
    run, steps = trajectory.run, trajectory.steps
    parts = [f"<h1>{_e(run.task) or 'guiagent run'}</h1>"]
    lead = _what_it_was(run)
    if lead:
        parts.append(f'<p class="lead" id="run-kind">{lead}</p>')
    if run.status == "running":
        parts.append(
            '<div class="banner" id="not-finished">This run did not finish: its status is still "running" '
            f"(the process was killed, or is still going). Showing the {len(steps)} step(s) recorded.</div>"
        )
    if trajectory.skipped_lines:
        parts.append(
            f'<div class="banner">{trajectory.skipped_lines} unreadable line(s) of {STEPS_FILE} were skipped.</div>'
        )
    parts.append(timeline_html(trajectory, steps))
    parts.append(_overview(trajectory))
    if not steps:
        parts.append('<p class="muted">No steps were recorded.</p>')
    for position, step in enumerate(steps):
        previous = steps[position - 1].index if position > 0 else None
        following = steps[position + 1].index if position + 1 < len(steps) else None
        parts.append(_step_html(trajectory, step, previous, following))
    return "\n".join(parts)


def _source_name(run: RunRecord) -> str:
    return Path(run.source).name if run.source else "a recorded run"


def _regrounding(run: RunRecord) -> bool:
    return bool(run.settings.get("regrounding"))


def _what_it_was(run: RunRecord) -> str:
    """One sentence for a replay (what was replayed, and that no model decided anything); "" for a run."""
    if run.kind != "replay":
        return ""
    source = f'<b title="{_e(run.source)}">{_e(_source_name(run))}</b>'
    if _regrounding(run):
        return (
            f"A replay of {source}: the recorded actions performed again, each screen compared with the "
            "recording; a model re-grounded the steps whose screen had changed."
        )
    return (
        f"A replay of {source}, no model: the recorded actions performed again, each screen compared with "
        "the recording."
    )


def _overview(trajectory: Trajectory) -> str:
    run, steps = trajectory.run, trajectory.steps
    if run.finished_at is not None:
        wall = seconds(run.finished_at - run.started_at)
    elif steps:
        last = steps[-1]
        wall = f"at least {seconds(last.started_at + last.total_seconds - run.started_at)} (did not finish)"
    else:
        wall = "unknown (did not finish)"
    facts: list[tuple[str, str]] = [("Task", _e(run.task)), ("Status", status_badge(run.status))]
    if run.reason:
        facts.append(("Reason", _e(run.reason)))
    if run.answer is not None:
        facts.append(("Answer", _e(run.answer)))
    facts.append(("Device", inline(run.device)))
    replay = run.kind == "replay"
    if replay and not _regrounding(run):
        recorded = inline(run.model)
        facts.append(("Model", f"none: a replay of {_e(_source_name(run))} (recorded with {recorded})"))
    else:
        facts.append(("Model", inline(run.model)))
        if run.family:
            facts.append(("Family", inline(run.family)))
    facts.append(("Started", _e(when(run.started_at))))
    if run.finished_at:
        facts.append(("Finished", _e(when(run.finished_at))))
    facts += [
        ("Wall time", _e(wall)),
        ("Steps", f"{len(steps)} recorded"),
        ("Time per stage", stage_table(stage_totals(s.timings for s in steps))),
    ]
    tokens = _tokens(steps)
    if tokens:
        facts.append(("Tokens", _e(tokens)))
    what = f"{_e(run.id)} · replay of {_e(run.source)}" if replay and run.source else f"{_e(run.id)} · {_e(run.kind)}"
    facts.append(("Run", what))
    if run.guiagent_version:
        facts.append(("guiagent", _e(run.guiagent_version)))
    rows = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    settings = f"<details><summary>Settings</summary>{kv_table(run.settings)}</details>" if run.settings else ""
    return f'<h2>Overview</h2><dl class="facts" id="overview">{rows}</dl>{settings}'


def _tokens(steps: list[StepRecord]) -> str:
    """Token totals, or "" when no step has any (a replay, a backend that does not count)."""
    prompt = sum(s.prompt_tokens or 0 for s in steps)
    completion = sum(s.completion_tokens or 0 for s in steps)
    estimated = sum(s.estimated_prompt_tokens or 0 for s in steps if s.prompt_tokens is None)
    if not (prompt or completion or estimated):
        return ""
    text = f"{prompt:,} prompt · {completion:,} completion"
    if estimated:
        text += f" · {estimated:,} prompt (estimated, where the backend did not count)"
    return text


def _step_html(trajectory: Trajectory, step: StepRecord, previous: int | None, following: int | None) -> str:
    error = step.error
    head = [f"<h3>Step {step.index}</h3>", f"<span>{_e(step_summary(step))}</span>"]
    head.append(f'<span class="muted">{seconds(step.total_seconds)}</span>')
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
    tokens = _step_tokens(step)
    heading = "Tokens and time" if tokens else "Time"
    info.append(f"<h4>{heading}</h4>" + (f'<div class="tokens">{_e(tokens)}</div>' if tokens else ""))
    info.append(stage_table(step.timings))
    if step.prompt:
        info.append(f"<details><summary>Prompt ({len(step.prompt)} messages)</summary>{_prompt_html(step)}</details>")
    classes = "step has-error" if error else "step"
    figure = figure_html(trajectory, step, previous, following)
    return (
        f'<section class="{classes}" id="step-{step.index}" data-step="{step.index}">'
        f'<div class="step-head">{"".join(head)}</div>'
        f'<div class="step-body">{figure}<div class="info">{"".join(info)}</div></div></section>'
    )


def _actions_html(step: StepRecord) -> str:
    if not step.actions_model and not step.actions_device:
        return '<h4>Actions</h4><div class="muted">none parsed</div>'
    executed = f"executed {step.executed} of {len(step.actions_device)}"
    parts = [f'<h4>Actions <span class="muted">({_e(executed)})</span></h4>']
    if step.actions_model:
        space = next((str(a.get("space")) for a in step.actions_model if a.get("space")), "model")
        parts.append(f'<div class="space">model space ({_e(space)}):</div>{json_lines(step.actions_model)}')
    if step.actions_device:
        parts.append(f"<div>device pixels:</div>{json_lines(step.actions_device)}")
    return "".join(parts)


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


def step_summary(step: StepRecord) -> str:
    """A step's actions in a few words, and its error type if it had one."""
    text = describe_actions(step.actions_device)
    return short(text, 100) + (" ⚠ " + step.error.type if step.error else "")


def _step_tokens(step: StepRecord) -> str:
    """``prompt 1,201 · completion 41 · model image 1092x2408``, or "" when there is none of it."""
    prompt = step.prompt_tokens if step.prompt_tokens is not None else step.estimated_prompt_tokens
    parts = []
    if prompt is not None:
        parts.append(f"prompt {prompt}" + (" (estimated)" if step.prompt_tokens is None else ""))
    if step.completion_tokens is not None:
        parts.append(f"completion {step.completion_tokens}")
    image = step.model_image
    if image.get("width"):
        parts.append(f"model image {image.get('width')}x{image.get('height')}")
    return " · ".join(parts)

"""The live terminal view of a run (rich), and the person in the loop at the terminal.

A ``TerminalHooks`` is an ``AgentHooks``: it prints each step as it is recorded — screenshot size, the
model's thought, the actions in device pixels, the time each stage took — shows a spinner with the
seconds elapsed while the next step is being worked on (most of it is the model thinking), asks before
actions when the confirm policy says so, answers the model's ``call_user`` from the keyboard, and ends
with a summary. ``ReplayHooks`` prints a replay's steps, one line each, as they are replayed.

Everything shown that a model, a task file or a person wrote is data, never rich markup: it goes to rich as
``Text`` (a reply holding ``[/b]`` would otherwise crash the prompt, ``[x, y]`` vanish, and ``[link=...]``
restyle the question a person is asked). Only this module's own fixed labels carry styles. Off a terminal
nothing is boxed or wrapped (``guiagent.agent.console``): a log gets one line per fact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Confirm, Prompt
from rich.table import Table
from rich.text import Text

from guiagent.actions.types import Action

from .console import Waiting, make_console, print_path
from .describe import describe_actions
from .hooks import AgentHooks
from .records import RunRecord, StepRecord, stage_totals

__all__ = ["ReplayHooks", "TerminalHooks", "print_facts"]

_STATUS_STYLE = {"success": "bold green", "failure": "bold red", "error": "bold red", "running": "yellow"}
_THOUGHT_CHARS = 400


def print_facts(console: Console, title: str, rows: Sequence[tuple[str, Text | str]]) -> None:
    """Name/value rows: a table on a terminal, ``name: value`` lines (never wrapped) anywhere else."""
    if console.is_terminal:
        table = Table(title=title, show_header=False)
        for name, value in rows:
            table.add_row(name, value)
        console.print(table)
        return
    console.print(Text(title, style="bold"))
    for name, value in rows:
        console.print(Text(f"  {name}: ") + (value if isinstance(value, Text) else Text(value)))


class TerminalHooks(AgentHooks):
    """Rich output on a console; interactive questions only when ``interactive`` (a real terminal)."""

    def __init__(self, console: Console | None = None, interactive: bool | None = None) -> None:
        self.console = console or make_console()
        self.interactive = self.console.is_terminal if interactive is None else interactive
        self.waiting = Waiting(self.console)
        self._steps: list[StepRecord] = []
        self._folder: Path | None = None

    def run_started(self, run: RunRecord, folder: Path) -> None:
        self._folder = folder
        model = Text(str(run.model.get("id", ""))) + Text(f"  ({run.family.get('name')})", style="dim")
        rows = [("Task", Text(run.task)), ("Model", model), ("Device", Text(str(run.device.get("name", ""))))]
        if self.console.is_terminal:
            lines = Text("\n").join(Text.assemble((f"{name:<7}", "bold"), value) for name, value in rows)
            self.console.print(Panel.fit(lines, title="guiagent run"))
        else:
            for name, value in rows:
                self.console.print(Text(f"{name}: ", style="bold") + value)
        print_path(self.console, folder, "Run folder: ")
        self.waiting.start(self._thinking(1))

    def step_finished(self, step: StepRecord) -> None:
        self.waiting.stop()
        self._steps.append(step)
        screen = f"{step.screen.get('width', '?')}x{step.screen.get('height', '?')}"
        seen = f"{step.model_image.get('width', '?')}x{step.model_image.get('height', '?')}"
        header = Text(f"step {step.index}", style="bold cyan")
        header.append(f"  screen {screen} → model {seen}", style="dim")
        if step.prompt_tokens:
            header.append(f"  {step.prompt_tokens}+{step.completion_tokens or 0} tokens", style="dim")
        self.console.print(header)
        if step.thought:
            self.console.print(Text("  thought ", style="bold") + Text(step.thought.strip()[:_THOUGHT_CHARS]))
        for action in step.actions_device:
            self.console.print(Text("  action  ", style="bold") + Text(json.dumps(action, ensure_ascii=False)))
        if step.error:
            style = "yellow" if step.error.sent_to_model else "red"
            told = " (sent back to the model)" if step.error.sent_to_model else ""
            self.console.print(Text(f"  {step.error.type}: {step.error.message}{told}", style=style))
        for note in step.notes:
            self.console.print(Text(f"  note    {note}", style="magenta"))
        timings = "  ".join(f"{k} {v * 1000:.0f}ms" for k, v in step.timings.items())
        self.console.print(Text(f"  time    {timings}", style="dim"))
        self.waiting.start(self._thinking(step.index + 1))

    def run_finished(self, run: RunRecord) -> None:
        self.waiting.stop()
        totals = stage_totals(s.timings for s in self._steps)
        rows: list[tuple[str, Text | str]] = [
            ("status", Text(run.status, style=_STATUS_STYLE.get(run.status, "bold yellow"))),
            ("reason", Text(run.reason)),
        ]
        if run.answer is not None:
            rows.append(("answer", Text(run.answer)))
        rows.append(("steps", str(run.steps)))
        if run.finished_at:
            rows.append(("wall time", f"{run.finished_at - run.started_at:.1f} s"))
        rows.append(("time by stage", "  ".join(f"{stage} {seconds:.2f}s" for stage, seconds in totals.items())))
        tokens = sum(s.prompt_tokens or 0 for s in self._steps), sum(s.completion_tokens or 0 for s in self._steps)
        rows.append(("tokens", f"{tokens[0]} prompt, {tokens[1]} completion"))
        print_facts(self.console, "Summary", rows)
        if self._folder is not None:
            print_path(self.console, self._folder, "trajectory: ")

    def confirm(self, action: Action, reason: str) -> bool:
        self.waiting.stop()
        if not self.interactive:
            self.console.print(Text(f"  declined {action.type}: {reason} (no terminal to ask)", style="yellow"))
            return False
        detail = json.dumps(action.to_json_dict(), ensure_ascii=False)
        question = Text.assemble(("Perform", "bold"), f" {detail}? ({reason})")
        return Confirm.ask(question, console=self.console, default=False)

    def ask_user(self, message: str) -> str | None:
        self.waiting.stop()
        if not self.interactive:
            return None
        self.console.print(Panel(Text(message), title="The agent asks for your help", border_style="magenta"))
        return Prompt.ask("Your reply (Enter when done)", console=self.console, default="")

    def _thinking(self, index: int) -> Text:
        return Text(f"step {index}", style="bold cyan") + Text(" · the model is thinking…")


class ReplayHooks(TerminalHooks):
    """A replay's steps, one line each as it is replayed: what was done, how closely the screen matched.

    Args:
        console: where to print.
        total: steps in the recording, for the ``step 3/15`` counter and the spinner between steps.
    """

    def __init__(self, console: Console | None = None, total: int | None = None) -> None:
        super().__init__(console)
        self.total = total

    def start(self) -> None:
        """Show the spinner for the first step (the replay itself announces nothing before it)."""
        self.waiting.start(self._replaying(1))

    def step_finished(self, step: StepRecord) -> None:
        self.waiting.stop()
        self._steps.append(step)
        count = f"{step.index:>2}" + (f"/{self.total}" if self.total else "")
        line = Text("  ✗ " if step.error else "  ✓ ", style="red" if step.error else "green")
        line.append(f"step {count}  ", style="bold")
        line.append(describe_actions(step.actions_device) if step.actions_device or not step.error else "not performed")
        matched = next((n for n in step.notes if n.startswith("screen difference")), None)
        if matched is not None:
            line.append("  " + _short_match(matched), style="dim")
        self.console.print(line)
        for note in step.notes:
            if note is not matched:
                self.console.print(Text(f"      {note}", style="magenta"))
        if step.error:
            self.console.print(Text(f"      {step.error.type}: {step.error.message}", style="red"))
        self.waiting.start(self._replaying(step.index + 1))

    def finish(self) -> None:
        """Stop the spinner: the replay has ended."""
        self.waiting.stop()

    def _replaying(self, index: int) -> Text:
        if self.total and index > self.total:
            return Text("finishing…")
        return Text(f"step {index}" + (f"/{self.total}" if self.total else ""), style="bold cyan") + Text(
            " · waiting for the recorded screen…"
        )


def _short_match(note: str) -> str:
    """``screen difference 0.0% (threshold 3.0%), target difference 0.0% (...)`` → ``screen 0.0% · target 0.0%``."""
    parts = [p.strip() for p in note.split(",")]
    short = []
    for part in parts:
        words = part.split()
        if len(words) >= 3 and words[1] == "difference":
            short.append(f"{words[0]} {words[2]}")
    return " · ".join(short) or note

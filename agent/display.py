"""The live terminal view of a run (rich), and the person in the loop at the terminal.

A ``TerminalHooks`` is an ``AgentHooks``: it prints each step as it is recorded — screenshot size, the
model's thought, the actions in device pixels, the time each stage took — asks before actions when the
confirm policy says so, answers the model's ``call_user`` from the keyboard, and ends with a summary.

Everything shown that a model, a task file or a person wrote is data, never rich markup: it goes to rich as
``Text`` (a reply holding ``[/b]`` would otherwise crash the prompt, ``[x, y]`` vanish, and ``[link=...]``
restyle the question a person is asked). Only this module's own fixed labels carry styles.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.prompt import Confirm, Prompt
from rich.table import Table
from rich.text import Text

from guiagent.actions.types import Action

from .hooks import AgentHooks
from .records import STAGES, RunRecord, StepRecord

__all__ = ["TerminalHooks"]

_STATUS_STYLE = {"success": "bold green", "failure": "bold red", "error": "bold red", "running": "yellow"}


class TerminalHooks(AgentHooks):
    """Rich output on a console; interactive questions only when ``interactive`` (a real terminal)."""

    def __init__(self, console: Console | None = None, interactive: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.interactive = self.console.is_terminal if interactive is None else interactive
        self._steps: list[StepRecord] = []
        self._folder: Path | None = None

    def run_started(self, run: RunRecord, folder: Path) -> None:
        self._folder = folder
        self.console.print(
            Panel.fit(
                Text.assemble(
                    ("Task  ", "bold"),
                    run.task,
                    "\n",
                    ("Model ", "bold"),
                    str(run.model.get("id", "")),
                    f"  ({run.family.get('name')})\n",
                    ("Device ", "bold"),
                    str(run.device.get("name", "")),
                    "\n",
                    ("Run   ", "bold"),
                    str(folder),
                ),
                title="guiagent run",
            )
        )

    def step_finished(self, step: StepRecord) -> None:
        self._steps.append(step)
        screen = f"{step.screen.get('width', '?')}x{step.screen.get('height', '?')}"
        seen = f"{step.model_image.get('width', '?')}x{step.model_image.get('height', '?')}"
        header = Text(f"step {step.index}", style="bold cyan")
        header.append(f"  screen {screen} → model {seen}", style="dim")
        if step.prompt_tokens:
            header.append(f"  {step.prompt_tokens}+{step.completion_tokens or 0} tokens", style="dim")
        self.console.print(header)
        if step.thought:
            self.console.print(Text("  thought ", style="bold") + Text(step.thought.strip()[:400]))
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

    def run_finished(self, run: RunRecord) -> None:
        totals: dict[str, float] = defaultdict(float)
        for step in self._steps:
            for stage, seconds in step.timings.items():
                totals[stage] += seconds
        table = Table(title="Summary", show_header=False)
        table.add_row("status", Text(run.status, style=_STATUS_STYLE.get(run.status, "bold yellow")))
        table.add_row("reason", Text(run.reason))
        if run.answer is not None:
            table.add_row("answer", Text(run.answer))
        table.add_row("steps", str(run.steps))
        if run.finished_at:
            table.add_row("wall time", f"{run.finished_at - run.started_at:.1f} s")
        table.add_row("time by stage", Text("  ".join(f"{s} {totals[s]:.2f}s" for s in STAGES if s in totals)))
        tokens = sum(s.prompt_tokens or 0 for s in self._steps), sum(s.completion_tokens or 0 for s in self._steps)
        table.add_row("tokens", f"{tokens[0]} prompt, {tokens[1]} completion")
        table.add_row("trajectory", Text(str(self._folder)))
        self.console.print(table)

    def confirm(self, action: Action, reason: str) -> bool:
        if not self.interactive:
            self.console.print(Text(f"  declined {action.type}: {reason} (no terminal to ask)", style="yellow"))
            return False
        detail = json.dumps(action.to_json_dict(), ensure_ascii=False)
        question = Text.assemble(("Perform", "bold"), f" {detail}? ({reason})")
        return Confirm.ask(question, console=self.console, default=False)

    def ask_user(self, message: str) -> str | None:
        if not self.interactive:
            return None
        self.console.print(Panel(Text(message), title="The agent asks for your help", border_style="magenta"))
        return Prompt.ask("Your reply (Enter when done)", console=self.console, default="")

"""What ``guiagent eval`` prints about each task: a line as it finishes, and the results table at the end.

The table must stay readable in an 80-column terminal and in a CI log: task ids are never cut (they fold
onto a second line instead), numbers are short (``12.3k`` tokens), and the long free text — why a task
failed, which checks did not pass — is not squeezed into a cell but printed under the table, one line per
failed task. Below 100 columns the model-time column is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

__all__ = ["WIDE", "result_line", "results_table", "why_failed"]

WIDE = 100
"""Terminals at least this wide also get the model-time column."""


def why_failed(result: Any) -> str:
    """The reason a task failed, with the names of the checks that did not pass."""
    failed = [str(c.get("name", "?")) for c in result.checks if not c.get("passed")]
    reason = str(result.reason or result.status)
    return reason + (f"; failed: {', '.join(failed)}" if failed else "")


def result_line(result: Any) -> Text:
    """One task as it finishes: ✓/✗, id, status, steps, seconds, and for a failure the reason."""
    line = Text("✓ ", style="green") if result.success else Text("✗ ", style="red")
    line.append(f"{result.task_id} ({result.status}, {result.steps} steps, {result.seconds:.1f} s)")
    if not result.success:
        line.append(": ", style="red")
        line.append(why_failed(result), style="red")
    return line


def results_table(results: Sequence[Any], rate: float, width: int) -> Table:
    """The suite's results, one row per task, fitted to ``width`` columns."""
    wide = width >= WIDE
    table = Table(title=f"Suite results: {rate:.0%} succeeded", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("task", overflow="fold", ratio=1, min_width=10)
    table.add_column("result", no_wrap=True)
    table.add_column("steps", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    if wide:
        table.add_column("model", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    for r in results:
        verdict = Text("✓ ", style="green") if r.success else Text("✗ ", style="red")
        verdict.append(str(r.status))
        row: list[Text | str] = [Text(str(r.task_id)), verdict, str(r.steps), f"{r.seconds:.1f} s"]
        if wide:
            row.append(f"{r.timings.get('model', 0.0):.1f} s")
        row.append(f"{_count(r.prompt_tokens or 0)}+{_count(r.completion_tokens or 0)}")
        table.add_row(*row)
    return table


def _count(tokens: int) -> str:
    """A token count in at most five characters: 940, 9400, 94.0k, 940k, 9.4M."""
    if tokens < 10_000:
        return str(tokens)
    if tokens < 1_000_000:
        return f"{tokens / 1000:.1f}k" if tokens < 100_000 else f"{tokens // 1000}k"
    return f"{tokens / 1_000_000:.1f}M"

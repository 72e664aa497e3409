"""The terminal's plumbing, shared by every command that prints while it works: consoles, paths, a spinner.

Three rules every command's output follows, so that it reads the same in a terminal, a pipe and a CI log:

* A console writing to a pipe or a file never wraps: rich would otherwise break every line at 80 columns,
  in the middle of a phrase or a path. The reader's terminal (or ``less``) wraps instead.
* Paths are printed absolute, so they can be copied or clicked from any folder; in a terminal that knows
  hyperlinks (OSC 8) they are links to the file. They are never rich markup (a folder named ``[red]``
  prints as itself).
* Work that takes a while shows a spinner with the seconds elapsed, only on a real terminal (nothing
  animated reaches a pipe), and always stopped before anything else is printed or asked.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.spinner import Spinner
from rich.style import Style
from rich.text import Text

__all__ = ["Waiting", "make_console", "path_text", "print_path", "shown_path"]


def make_console(stderr: bool = True) -> Console:
    """A console on stderr (or stdout) that wraps only on a real terminal."""
    console = Console(stderr=stderr)
    console.soft_wrap = not console.is_terminal
    return console


def shown_path(path: str | Path) -> str:
    """The path as guiagent prints it: absolute (not resolving links, so it is the path the user gave)."""
    return str(Path(path).absolute())


def path_text(path: str | Path, label: str = "") -> Text:
    """``label`` followed by the absolute path, linked to the file where the terminal supports links."""
    absolute = Path(path).absolute()
    text = Text(label, style="bold") if label else Text()
    text.append(str(absolute), style=Style(link=absolute.as_uri()))
    return text


def print_path(console: Console, path: str | Path, label: str = "") -> None:
    """Print ``label`` and the path on one line that rich never breaks (the terminal may still wrap it
    visually, and copying gives the whole path back)."""
    console.print(path_text(path, label), soft_wrap=True)


class _Elapsed:
    """A spinner, a label and the seconds since it started; re-rendered by ``Live`` a few times a second."""

    def __init__(self, label: Text) -> None:
        self.label = label
        self.started = time.monotonic()
        self.spinner = Spinner("dots", style="cyan")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        self.spinner.text = self.label + Text(f"  {time.monotonic() - self.started:.1f} s", style="dim")
        yield self.spinner


class Waiting:
    """A spinner line with elapsed seconds while something slow happens; silent off a terminal.

    ``start(label)`` replaces any spinner already showing; ``stop()`` is safe to call at any time, twice
    included. Lines printed on the console while it spins appear above it (rich's ``Live`` does that).
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._live: Live | None = None

    @property
    def active(self) -> bool:
        """Whether a spinner is showing."""
        return self._live is not None

    def start(self, label: str | Text) -> None:
        """Show ``label`` with a spinner and a seconds counter (only on a terminal)."""
        self.stop()
        if not self.console.is_terminal:
            return
        text = label if isinstance(label, Text) else Text(label)
        self._live = Live(_Elapsed(text), console=self.console, refresh_per_second=8, transient=True)
        self._live.start()

    def stop(self) -> None:
        """Remove the spinner line, if one is showing."""
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __enter__(self) -> Waiting:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

"""The fault suite's figures: each test adds its row (what was tried, how many, how many lost anything).

Rows are appended to ``fault-figures.json`` in pytest's base temporary folder (one JSON object a line, so
an aborted session keeps the rows it finished) and printed as a table at the end of the session. Set
``GUIAGENT_FAULT_FIGURES=PATH`` to also write the table as Markdown there, ready for the README.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Figures", "figures"]

_ROWS = pytest.StashKey[Path]()


@dataclass(frozen=True)
class Figures:
    """Where this session's rows go."""

    path: Path

    def add(self, what: str, tried: int, lost: list[str], detail: str = "", order: int = 99) -> None:
        """Record one row: ``tried`` attempts of ``what``; ``lost`` describes each one that lost something (or
        did something not recorded or not allowed), written in full to a file next to the rows; ``detail``
        says what the tries did (outcomes, time); ``order`` places the row in the table (the issue's order)."""
        row = {"what": what, "tried": tried, "lost": len(lost), "detail": detail, "order": order}
        if lost:
            listing = self.path.with_name(f"fault-lost-{len(self._names())}.txt")
            listing.write_text(f"{what}\n\n" + "\n\n".join(lost) + "\n", encoding="utf-8")
            row["listing"] = str(listing)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"\n[fault figures] {what}: tried {tried}, lost {len(lost)}. {detail}")

    def _names(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def figures(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Figures]:
    """The session's ``Figures`` (rows printed in the terminal summary)."""
    path = tmp_path_factory.getbasetemp() / "fault-figures.json"
    request.config.stash[_ROWS] = path
    yield Figures(path)


def _rows(config: pytest.Config) -> list[dict[str, object]]:
    path = config.stash.get(_ROWS, None)
    if path is None or not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda row: row.get("order", 99))


def markdown_table(rows: list[dict[str, object]]) -> str:
    """The README table: one line per row."""
    lines = ["| What was tried | Tried | Lost anything |", "|---|---:|---:|"]
    lines += [f"| {r['what']} | {r['tried']:,} | {r['lost']} |" for r in rows]
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = _rows(config)
    if not rows:
        return
    terminalreporter.section("What guiagent survives (tests/faults)")
    terminalreporter.write_line(markdown_table(rows))
    for row in rows:
        if row.get("detail"):
            terminalreporter.write_line(f"  {row['what']}: {row['detail']}")
        if row.get("listing"):
            terminalreporter.write_line(f"    every one that lost something: {row['listing']}")
    target = os.environ.get("GUIAGENT_FAULT_FIGURES")
    if target:
        Path(target).write_text(markdown_table(rows) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"table written to {target}")

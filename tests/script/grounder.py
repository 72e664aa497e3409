"""A scripted grounding model for the scripted HTTP server: it answers each grounding prompt from a table.

The table maps a description (as the script writes it) to a function that finds the target on the real
device at request time; the answer is written in the family's own reply format and units, so the session
parses it with the family's own parser. Every description asked is kept in ``asked``, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guiagent.actions.families import ModelFamily
from guiagent.actions.geometry import Size
from guiagent.actions.types import Click
from tests.fixtures.openai_server import Fail, request_text

__all__ = ["Grounder", "phone_target"]


@dataclass
class Grounder:
    """A script entry (``server.script = [grounder]; server.repeat_last = True``)."""

    family: ModelFamily
    screen: Callable[[], Size]
    table: dict[str, Callable[[], tuple[int, int]]]
    asked: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> str | Fail:
        text = request_text(body)
        found = [description for description in self.table if description in text]
        if not found:
            return Fail(500, f"the test's table has no description in: {text[-300:]!r}")
        description = max(found, key=len)
        self.asked.append(description)
        x, y = self.table[description]()
        screen = self.screen()
        space = self.family.space(screen)
        mx, my = space.from_device(x, y, screen)
        return self.family.format_action(Click(x=mx, y=my, space=space.name))


def phone_target(phone: Any, **query: str) -> Callable[[], tuple[int, int]]:
    """The centre of the widget on the phone's screen matching ``text=``, ``desc=`` or ``rid=`` (suffix)."""

    def find() -> tuple[int, int]:
        widget = phone.find(**query)
        assert widget is not None, f"{query} is not on the phone's screen"
        return widget.bounds.center

    return find

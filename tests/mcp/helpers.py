"""What the MCP tests share: the scripted model's answers, found on the real phone at request time, and an
elicitation callback that answers as a person would and remembers what it was asked.

The model server answers a grounding prompt with the target's point in the family's own format
(``tests.script.grounder.Grounder``); an agent prompt for ``AGENT_TASK`` with the next scripted reply. Where
the phone lives in another process (``guiagent mcp --device virtual`` over stdio), its targets are read from
the UI hierarchy it dumps over the real adb server (``hierarchy_target``), as any adb client would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types

from guiagent.actions.families import get_family
from guiagent.actions.geometry import Size
from guiagent.actions.types import OpenApp, Terminate
from guiagent.envs.hierarchy import parse_hierarchy
from tests.fixtures.openai_server import request_text
from tests.script.grounder import Grounder

FAMILY = get_family("qwen2.5-vl-mobile")
AGENT_TASK = "Open the Messages app"
AGENT_REPLIES = (
    FAMILY.format_action(OpenApp(name="Messages"), thought="I open Messages."),
    FAMILY.format_action(Terminate(status="success"), thought="Messages is open."),
)
NOTE = "Water the plants"
TARGETS = {
    "the New note button": {"text": "New note"},
    "the note text field": {"rid": "note_text"},
    "the Save button": {"text": "Save"},
    "the note about the plants": {"text": NOTE},
    "the Delete button": {"text": "Delete"},
}


@dataclass
class ModelScript:
    """One scripted-server entry (``repeat_last``): grounding prompts, the agent's run, visual checks (no)."""

    grounder: Grounder
    agent: list[str] = field(default_factory=lambda: list(AGENT_REPLIES))
    agent_requests: int = 0

    def __call__(self, body: dict[str, Any]) -> Any:
        text = request_text(body)
        if AGENT_TASK in text:
            self.agent_requests += 1
            return self.agent.pop(0) if self.agent else FAMILY.format_action(Terminate(status="failure"))
        if "Answer true or false" in text:  # a visual check the UI hierarchy could not answer: not there
            return '{"value": false}'
        return self.grounder(body)


def phone_script(phone: Any) -> ModelScript:
    """The script for a phone this process can see (in-process tests)."""
    from tests.script.grounder import phone_target

    table = {description: phone_target(phone, **query) for description, query in TARGETS.items()}
    return ModelScript(Grounder(FAMILY, lambda: Size(*phone.display_size), table))


def adb_script(device: Callable[[], Any], size: Callable[[], Size]) -> ModelScript:
    """The script for a phone in another process: ``device()`` is its adbutils device once it is known."""

    def dump() -> list[Any]:
        return parse_hierarchy(device().shell("uiautomator dump /dev/tty"))

    table = {description: hierarchy_target(dump, **query) for description, query in TARGETS.items()}
    return ModelScript(Grounder(FAMILY, size, table))


def hierarchy_target(dump: Callable[[], list[Any]], text: str = "", rid: str = "") -> Callable[[], tuple[int, int]]:
    """The centre of the first view on screen whose label is ``text`` (or whose resource id ends with ``rid``)."""

    def find() -> tuple[int, int]:
        for node in dump():
            if node.area > 0 and ((text and node.label == text) or (rid and node.resource_id.endswith(rid))):
                left, top, right, bottom = node.bounds
                return (left + right) // 2, (top + bottom) // 2
        raise AssertionError(f"no view {text or rid!r} on the phone's screen")

    return find


@dataclass
class Person:
    """An elicitation callback: answers each question from ``answers`` (``"yes"``, ``"no"``, ``"decline"``)."""

    answers: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        answer = self.answers.pop(0) if self.answers else "decline"
        if answer == "decline":
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"allow": answer == "yes"})


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))

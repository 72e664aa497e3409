"""The MCP tools: their names, arguments and descriptions (what the client's model reads), and which session
step or run each one is.

Elements are named in words (``target``, ``into``, ``on``) and located by the session (a verified cached
locator, else the family's grounding prompt), or given as ``x`` and ``y`` in device pixels (the full-size
screenshot's pixels), performed as they are. Both are recorded and pass the confirm policy.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import Field, create_model

from guiagent.actions.errors import ConfigError
from guiagent.actions.types import Click, DoubleClick, LongPress, Scroll, Swipe

from . import runs

if TYPE_CHECKING:
    from guiagent.tasks.script import StepResult

    from .jobs import Job
    from .server import GuiAgentServer

__all__ = ["register"]

Result = CallToolResult | InputRequiredResult
Direction = Literal["up", "down", "left", "right"]
Target = Annotated[str | None, Field(description="the element, in words as a person would name it: 'the Save button'")]
X = Annotated[int | None, Field(ge=0, description="device pixels from the left (instead of target)")]
Y = Annotated[int | None, Field(ge=0, description="device pixels from the top (instead of target)")]
AnswerKind = Literal["text", "number", "integer", "boolean", "list", "object"]
_TYPES: dict[str, Any] = {
    "text": str,
    "number": float,
    "integer": int,
    "boolean": bool,
    "list": list[str],
    "object": dict[str, Any],
}
_READ = ToolAnnotations(read_only_hint=True)
_FIELDS = 'answer an object with these fields instead, e.g. {"total": "number", "currency": "text"}'
_SECRET = re.compile(r"<secret:([A-Za-z_][A-Za-z0-9_]*)>")


def _point(target: str | None, x: int | None, y: int | None, verb: str) -> tuple[int, int] | None:
    """The pixel point, or None for a target described in words; a ``ConfigError`` for anything else."""
    if target is not None and target.strip():
        if x is not None or y is not None:
            raise ConfigError(f"{verb}: give target (in words) or x and y (device pixels), not both")
        return None
    if x is None or y is None:
        raise ConfigError(f"{verb}: give target (the element in words) or both x and y (device pixels)")
    return x, y


def _key(verb: str, target: str | None) -> str:
    """The cache key of a described element: the same words find the same element again (verified first),
    however often a client names it; a script numbers repeats instead, each a step of its own."""
    return f"{verb} {' '.join(str(target).split())}"


def _title(verb: str, target: str | None, x: int | None, y: int | None) -> str:
    return f"{verb} {target!r}" if target else f"{verb} at ({x}, {y})"


def register(server: GuiAgentServer) -> None:
    """Add every tool to ``server.mcp``."""
    mcp, session = server.mcp, server.session

    async def screenshot(
        ctx: Context,
        max_side: Annotated[int, Field(ge=0, description="shrink the image so its longer side is at most this")] = 0,
    ) -> Result:
        """The device's screen now, as a PNG image, with its size in device pixels. Coordinates you pass to
        tap, type, swipe and scroll are pixels of the full-size image."""
        return await server.call(ctx, "take a screenshot", lambda job: server.screenshot(max_side))

    async def tap(ctx: Context, target: Target = None, x: X = None, y: Y = None) -> Result:
        """Tap (click) an element named in words, or the point x, y in device pixels."""

        def work(job: Job) -> CallToolResult:
            point = _point(target, x, y, "tap")
            return server.stepped(
                session.act(Click(x=point[0], y=point[1]))
                if point
                else session.tap(str(target), key=_key("tap", target))
            )

        return await server.call(ctx, _title("tap", target, x, y), work)

    async def double_tap(ctx: Context, target: Target = None, x: X = None, y: Y = None) -> Result:
        """Double-tap (double-click) an element named in words, or the point x, y in device pixels."""

        def work(job: Job) -> CallToolResult:
            point = _point(target, x, y, "double_tap")
            if point:
                return server.stepped(session.act(DoubleClick(x=point[0], y=point[1])))
            return server.stepped(session.double_tap(str(target), key=_key("double tap", target)))

        return await server.call(ctx, _title("double-tap", target, x, y), work)

    async def long_press(
        ctx: Context,
        target: Target = None,
        x: X = None,
        y: Y = None,
        duration: Annotated[float, Field(gt=0, le=60, description="seconds to hold")] = 1.0,
    ) -> Result:
        """Touch and hold an element named in words, or the point x, y in device pixels."""

        def work(job: Job) -> CallToolResult:
            point = _point(target, x, y, "long_press")
            if point:
                return server.stepped(session.act(LongPress(x=point[0], y=point[1], duration=duration)))
            return server.stepped(session.long_press(str(target), duration=duration, key=_key("long press", target)))

        return await server.call(ctx, _title("long-press", target, x, y), work)

    async def type_text(
        ctx: Context,
        text: Annotated[str, Field(min_length=1, description="what to type; <secret:name> types a secret")],
        into: Annotated[str | None, Field(description="the field to tap first, in words")] = None,
        x: Annotated[int | None, Field(ge=0, description="the field to tap first, device pixels from the left")] = None,
        y: Annotated[int | None, Field(ge=0, description="the field to tap first, device pixels from the top")] = None,
    ) -> Result:
        """Type text into the focused field, or first tap the field named in words (into) or at x, y."""
        typed = _SECRET.sub(lambda m: f"<secret:{m.group(1).lower()}>", text)

        def work(job: Job) -> CallToolResult:
            results: tuple[StepResult, ...]
            if into is None and x is None and y is None:
                results = (session.type(typed),)
            else:
                point = _point(into, x, y, "type")
                if point:
                    results = (session.act(Click(x=point[0], y=point[1])), session.type(typed))
                else:
                    results = (session.type(typed, into=into, key=_key("type into", into)),)
            server.secrets_typed([typed], f"step {results[-1].index}")
            result = server.stepped(*results)
            result.content.append(TextContent(type="text", text=f"typed {typed!r}"))
            return result

        where = f" into {into!r}" if into else (f" at ({x}, {y})" if x is not None or y is not None else "")
        return await server.call(ctx, f"type {typed!r}{where}", work)

    async def swipe(
        ctx: Context,
        direction: Annotated[Direction, Field(description="where the finger moves ('up' moves content up)")] = "up",
        on: Annotated[str | None, Field(description="swipe on this element, in words (default: screen centre)")] = None,
        distance: Annotated[float, Field(gt=0, le=1, description="length as a share of the screen")] = 0.5,
        duration: Annotated[float, Field(gt=0, le=60, description="seconds")] = 0.3,
        x: X = None,
        y: Y = None,
        x2: Annotated[int | None, Field(ge=0, description="end point, device pixels (with x, y, y2)")] = None,
        y2: Annotated[int | None, Field(ge=0, description="end point, device pixels (with x, y, x2)")] = None,
    ) -> Result:
        """Swipe (drag) in a direction, on an element named in words or the screen centre; or from x, y to
        x2, y2 in device pixels."""

        def work(job: Job) -> CallToolResult:
            pixels = [x, y, x2, y2]
            if any(v is not None for v in pixels):
                if any(v is None for v in pixels) or on is not None:
                    raise ConfigError("swipe: give x, y, x2 and y2 (device pixels), or a direction (and on), not both")
                action = Swipe(x=x, y=y, x2=x2, y2=y2, duration=duration)  # type: ignore[arg-type]
                return server.stepped(session.act(action))
            return server.stepped(session.swipe(direction, on=on, distance=distance, duration=duration))

        title = f"swipe from ({x}, {y}) to ({x2}, {y2})" if x is not None else f"swipe {direction}"
        return await server.call(ctx, title + (f" on {on!r}" if on else ""), work)

    async def scroll(
        ctx: Context,
        direction: Annotated[Direction, Field(description="'down' shows what is below")] = "down",
        on: Annotated[str | None, Field(description="scroll over this element, in words")] = None,
        amount: Annotated[int, Field(ge=1, le=100, description="wheel notches")] = 5,
        x: X = None,
        y: Y = None,
    ) -> Result:
        """Scroll the content in a direction, over an element named in words, the point x, y, or the screen."""

        def work(job: Job) -> CallToolResult:
            if x is not None or y is not None:
                point = _point(on, x, y, "scroll")
                assert point is not None
                return server.stepped(session.act(Scroll(direction=direction, amount=amount, x=point[0], y=point[1])))
            return server.stepped(session.scroll(direction, on=on, amount=amount))

        return await server.call(ctx, f"scroll {direction}" + (f" on {on!r}" if on else ""), work)

    async def key(
        ctx: Context,
        keys: Annotated[str, Field(min_length=1, description="'enter', 'ctrl+a'; back, home, menu, recents")],
    ) -> Result:
        """Press a key or a chord; on a phone back, home, menu and recents are its navigation buttons."""
        return await server.call(ctx, f"press {keys}", lambda job: server.stepped(session.key(keys)))

    async def open_app(
        ctx: Context, name: Annotated[str, Field(min_length=1, description="its label or package name")]
    ) -> Result:
        """Open an app by its label ("Settings") or package name (phones)."""
        return await server.call(ctx, f"open {name}", lambda job: server.stepped(session.open_app(name)))

    async def assert_visible(ctx: Context, what: Annotated[str, Field(min_length=1)]) -> Result:
        """Check that something (a text, an element in words) is on the screen now; an error if it is not.
        On Android the UI hierarchy answers first, without a model."""
        return await server.call(
            ctx, f"check {what!r}", lambda job: server.stepped(session.assert_visible(what), acted=False)
        )

    async def wait_for(
        ctx: Context,
        what: Annotated[str, Field(min_length=1)],
        timeout: Annotated[float, Field(gt=0, le=600, description="seconds")] = 30.0,
    ) -> Result:
        """Wait until something is on the screen (at most timeout seconds); an error if it never shows."""
        return await server.call(
            ctx, f"wait for {what!r}", lambda job: server.stepped(session.wait_for(what, timeout), acted=False)
        )

    async def query(
        ctx: Context,
        ask: Annotated[str, Field(min_length=1, description="what to read off the screen: 'the total price'")],
        answer: Annotated[AnswerKind, Field(description="the answer's type")] = "text",
        fields: Annotated[dict[str, AnswerKind] | None, Field(description=_FIELDS)] = None,
    ) -> Result:
        """Read typed data off the screen with guiagent's model; the answer is validated (and re-asked once)."""

        def work(job: Job) -> CallToolResult:
            schema: Any = _TYPES[answer]
            if fields:
                bad = [name for name in fields if not name.isidentifier()]
                if bad:
                    raise ConfigError(f"query: field names must be identifiers, got {bad[0]!r}")
                definitions: dict[str, Any] = {name: (_TYPES[kind], ...) for name, kind in fields.items()}
                schema = create_model("Answer", **definitions)
            server.need_model("query")
            result = server.stepped(session.query(ask, schema), acted=False)
            value = (result.structured_content or {}).get("value")
            result.content.insert(0, TextContent(type="text", text=json.dumps(value, ensure_ascii=False)))
            return result

        return await server.call(ctx, f"read {ask!r}", work)

    async def run_task(
        ctx: Context,
        task: Annotated[str, Field(min_length=1, description="what to do, in words")],
        max_steps: Annotated[int | None, Field(ge=1, le=200, description="step limit")] = None,
        time_limit: Annotated[float | None, Field(gt=0, description="seconds")] = None,
    ) -> Result:
        """Hand a whole task to guiagent's agent: its model operates the device until the task is done, with
        progress after every step. Returns how the run ended and where it is recorded."""
        return await server.call(
            ctx, f"run the task {task!r}", lambda job: runs.run_task(server, job, task, max_steps, time_limit)
        )

    async def replay(
        ctx: Context,
        run_dir: Annotated[str, Field(min_length=1, description="a run folder or run id on the server")],
        allow_unfinished: Annotated[bool, Field(description="replay a run that did not succeed")] = False,
        reground: Annotated[bool, Field(description="let the model re-ground a step whose screen changed")] = True,
    ) -> Result:
        """Replay a recorded run (run_task's, a replay's, this session's) at device speed, checking each step."""
        return await server.call(
            ctx, f"replay {run_dir}", lambda job: runs.replay_run(server, job, run_dir, allow_unfinished, reground)
        )

    async def list_devices(ctx: Context) -> Result:
        """The devices guiagent can see (adb devices, desktop monitors) and which one this server drives."""
        return await server.call(ctx, "list devices", lambda job: runs.list_devices(server))

    tools: list[tuple[Callable[..., Any], str, ToolAnnotations | None]] = [
        (screenshot, "screenshot", _READ),
        (tap, "tap", None),
        (double_tap, "double_tap", None),
        (long_press, "long_press", None),
        (type_text, "type", None),
        (swipe, "swipe", None),
        (scroll, "scroll", None),
        (key, "key", None),
        (open_app, "open_app", None),
        (assert_visible, "assert_visible", _READ),
        (wait_for, "wait_for", _READ),
        (query, "query", _READ),
        (run_task, "run_task", None),
        (replay, "replay", None),
        (list_devices, "list_devices", _READ),
    ]
    for tool, name, hints in tools:
        description = " ".join(inspect.cleandoc(tool.__doc__ or "").split())
        mcp.add_tool(tool, name=name, description=description, annotations=hints, structured_output=False)

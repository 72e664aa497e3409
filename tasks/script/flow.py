"""Running a script file on a session: each YAML step becomes the session step of the same name.

Variables are substituted just before each step runs (a query's answer is known only then); the
session records the step and decides what happens on failure, and the first error ends the flow.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .session import Session, StepResult
from .yaml_script import (
    ActStep,
    AssertVisibleStep,
    DoubleTapStep,
    KeyStep,
    LongPressArgs,
    LongPressStep,
    OpenAppStep,
    QueryStep,
    Script,
    ScrollArgs,
    ScrollStep,
    ScrollUntilArgs,
    ScrollUntilStep,
    SwipeArgs,
    SwipeStep,
    TapStep,
    TypeArgs,
    TypeStep,
    WaitForArgs,
    WaitForStep,
    WaitStep,
    schema_type,
    substitute,
)

__all__ = ["run_flow", "run_step"]


def run_flow(script: Script, session: Session, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run every step of ``script`` on ``session`` in order; returns the variables at the end.

    ``variables`` (``--var``) win over the file's ``vars``; queries add theirs as they answer.

    Raises:
        GuiAgentError: the step that failed raised it (the session has recorded it).
    """
    values: dict[str, Any] = {**script.file.vars, **(variables or {})}
    for step in script.steps:
        result = run_step(step, session, values)
        if isinstance(step, QueryStep):
            values[step.query.as_] = result.value
    return values


def run_step(step: BaseModel, s: Session, values: dict[str, Any]) -> StepResult:
    """One YAML step on the session, its text with ``${name}`` substituted."""

    def v(text: str) -> str:
        return substitute(text, values)

    def opt(text: str | None) -> str | None:
        return v(text) if text is not None else None

    if isinstance(step, TapStep):
        return s.tap(v(step.tap))
    if isinstance(step, DoubleTapStep):
        return s.double_tap(v(step.double_tap))
    if isinstance(step, LongPressStep):
        press = step.long_press if isinstance(step.long_press, LongPressArgs) else LongPressArgs(target=step.long_press)
        return s.long_press(v(press.target), duration=press.duration)
    if isinstance(step, TypeStep):
        typed = step.type if isinstance(step.type, TypeArgs) else TypeArgs(text=step.type)
        return s.type(v(typed.text), into=opt(typed.into))
    if isinstance(step, AssertVisibleStep):
        return s.assert_visible(v(step.assert_visible))
    if isinstance(step, WaitForStep):
        wait = step.wait_for if isinstance(step.wait_for, WaitForArgs) else WaitForArgs(what=step.wait_for)
        return s.wait_for(v(wait.what), timeout=wait.timeout)
    if isinstance(step, QueryStep):
        return s.query(v(step.query.ask), schema_type(step.query.schema_))
    if isinstance(step, ScrollUntilStep):
        until = step.scroll_until
        until = until if isinstance(until, ScrollUntilArgs) else ScrollUntilArgs(what=until)
        return s.scroll_until(v(until.what), until.direction, until.max_swipes, on=opt(until.on))
    if isinstance(step, ScrollStep):
        scroll = step.scroll if isinstance(step.scroll, ScrollArgs) else ScrollArgs(direction=step.scroll)
        return s.scroll(scroll.direction, on=opt(scroll.on), amount=scroll.amount)
    if isinstance(step, SwipeStep):
        swipe = step.swipe if isinstance(step.swipe, SwipeArgs) else SwipeArgs(direction=step.swipe)
        return s.swipe(swipe.direction, on=opt(swipe.on), distance=swipe.distance)
    if isinstance(step, OpenAppStep):
        return s.open_app(v(step.open_app))
    if isinstance(step, KeyStep):
        return s.key(v(step.key) if isinstance(step.key, str) else [v(k) for k in step.key])
    if isinstance(step, WaitStep):
        return s.wait(step.wait)
    if isinstance(step, ActStep):
        return s.act(step.act)
    raise TypeError(f"not a script step: {type(step).__name__}")

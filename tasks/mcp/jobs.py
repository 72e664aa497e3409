"""One tool call's device work on its own thread, and asking the MCP client's person from the middle of it.

The confirm policy decides *inside* a step (a tap's target is known only once it is located), and a whole
``run_task`` may need several answers. So the work runs on a ``Job`` thread, and when the policy wants a
person's yes, the thread stops in ``Job.ask`` while the tool's handler (``drive``) puts the question to the
client, in the way the connection's protocol allows:

* up to 2025-11-25 (Claude Desktop, Claude Code and most clients today): an ``elicitation/create`` request
  sent in the middle of the call (``ctx.elicit``); the handler awaits the answer and hands it to the thread;
* from 2026-07-28 there are no server-to-client requests: the handler *returns* an ``InputRequiredResult``
  carrying the question, and keeps the job parked (``Parked``); the client asks its person and calls the same
  tool again with the answer, which ``Parked.resume`` hands to the waiting thread, and the call goes on.

A client that declared no elicitation capability, a question that cannot be delivered, or no answer within
``answer_timeout`` seconds is a no: the action is declined, never performed unasked. Progress (``report``)
reaches the client as ``notifications/progress`` of whichever request is waiting on the job.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import anyio.to_thread
from mcp.server.elicitation import render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp_types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field, ValidationError

__all__ = ["Answer", "Confirmation", "Job", "Parked", "Question", "Reply", "drive", "error_result"]

logger = logging.getLogger("guiagent.mcp")

Kind = Literal["confirm", "reply"]
_INPUT_REQUIRED = "2026-07-28"
"""The first protocol version whose tool calls ask by returning ``InputRequiredResult``."""
NO_ELICITATION = "the MCP client cannot ask its person (it declared no elicitation capability), so it is a no"


class Confirmation(BaseModel):
    """The form a person answers before a risky action."""

    allow: bool = Field(description="Let guiagent perform this action on the device")


class Reply(BaseModel):
    """The form a person answers when the agent asks them for help."""

    text: str = Field(description="Your reply to the agent (empty when you have done what it asked)")


_SCHEMAS: dict[str, type[BaseModel]] = {"confirm": Confirmation, "reply": Reply}


@dataclass(frozen=True)
class Question:
    """A question the job thread waits on: ``confirm`` (yes or no) or ``reply`` (text)."""

    id: str
    kind: Kind
    message: str


@dataclass(frozen=True)
class Answer:
    """The person's answer, or why there is none (``yes`` False, ``why`` saying why)."""

    yes: bool
    text: str | None = None
    why: str = ""


def error_result(message: str, **details: Any) -> CallToolResult:
    """A tool error: the one-line message for the client's model, and the details as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=message)],
        structured_content={"error": message, **details},
        is_error=True,
    )


class Job:
    """``work(job)`` on its own thread; it may ``ask`` the person and ``report`` progress while it runs.

    Args:
        title: what the call does, in words (the device's "busy with" message, thread name).
        work: the device work; returns the tool's result and never raises (a last-resort net turns an
            escaped exception into an error result).
        answer_timeout: seconds a question waits for its answer before it counts as a no.
    """

    def __init__(self, title: str, work: Callable[[Job], CallToolResult], answer_timeout: float) -> None:
        self.id = uuid.uuid4().hex
        self.title = title
        self.refusals: list[str] = []
        """Why confirmations were not given (``Answer.why``), for the call's result."""
        self.answer_timeout = answer_timeout
        self._cond = threading.Condition()
        self._progress: list[tuple[float, float | None, str]] = []
        self._open: Question | None = None
        self._taken = False
        self._answers: dict[str, Answer] = {}
        self._result: CallToolResult | None = None
        self._cancelled = False
        threading.Thread(target=self._main, args=(work,), name=f"guiagent-mcp {title[:40]}", daemon=True).start()

    def _main(self, work: Callable[[Job], CallToolResult]) -> None:
        try:
            result = work(self)
        except BaseException as exc:  # noqa: BLE001 - the work catches its own errors; this keeps the server up
            logger.exception("guiagent mcp: %s failed unexpectedly", self.title)
            result = error_result(f"internal error in guiagent while doing {self.title}: {type(exc).__name__}")
        with self._cond:
            self._result = result
            self._cond.notify_all()

    # -- the job's own thread ---------------------------------------------------------------------

    def ask(self, kind: Kind, message: str) -> Answer:
        """Put a question to the person and wait for the answer (a no after ``answer_timeout`` seconds)."""
        question = Question(uuid.uuid4().hex, kind, message)
        with self._cond:
            if self._cancelled:
                return self._refused(Answer(False, why="the MCP client cancelled the call"))
            self._open, self._taken = question, False
            self._cond.notify_all()
            answered = self._cond.wait_for(
                lambda: question.id in self._answers or self._cancelled, timeout=self.answer_timeout
            )
            self._open = None
            if question.id in self._answers:
                answer = self._answers.pop(question.id)
            elif answered:
                answer = Answer(False, why="the MCP client cancelled the call")
            else:
                answer = Answer(False, why=f"no answer from the MCP client within {self.answer_timeout:g} s")
        return self._refused(answer) if not answer.yes else answer

    def _refused(self, answer: Answer) -> Answer:
        if answer.why:
            self.refusals.append(answer.why)
        return answer

    def report(self, progress: float, total: float | None, message: str) -> None:
        """Progress for the client (``notifications/progress``)."""
        with self._cond:
            self._progress.append((progress, total, message))
            self._cond.notify_all()

    @property
    def cancelled(self) -> bool:
        """The client cancelled the call: the work should stop at its next step."""
        return self._cancelled

    # -- the handler's side -----------------------------------------------------------------------

    def wait(self, timeout: float) -> None:
        """Block until there is progress, a question not yet taken, or the result (or ``timeout`` passes)."""
        with self._cond:
            self._cond.wait_for(self._news, timeout=timeout)

    def _news(self) -> bool:
        return bool(self._progress) or self._result is not None or (self._open is not None and not self._taken)

    def take_progress(self) -> list[tuple[float, float | None, str]]:
        with self._cond:
            items, self._progress = self._progress, []
            return items

    def take_question(self) -> Question | None:
        """The open question, once (the next call returns None until another is asked)."""
        with self._cond:
            if self._open is None or self._taken:
                return None
            self._taken = True
            return self._open

    @property
    def result(self) -> CallToolResult | None:
        with self._cond:
            return self._result

    def answer(self, question_id: str, answer: Answer) -> None:
        """Hand the person's answer to the waiting thread (ignored when that question is no longer open)."""
        with self._cond:
            if self._open is not None and self._open.id == question_id:
                self._answers[question_id] = answer
                self._cond.notify_all()

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()


class Parked:
    """Jobs waiting for a 2026-07-28 client to call again with its person's answer."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def park(self, job: Job) -> None:
        self._jobs = {key: j for key, j in self._jobs.items() if j.result is None}  # drop the finished ones
        self._jobs[job.id] = job

    def resume(self, ctx: Context[Any, Any]) -> Job | CallToolResult | None:
        """The parked job this call continues, its answer handed over; None for a new call; an error
        result when the question it answers is no longer open."""
        if not ctx.request_state:
            return None
        try:
            state = json.loads(ctx.request_state)
            job_id, question_id, kind = state["job"], state["question"], state["kind"]
        except (ValueError, KeyError, TypeError):
            return None  # not a state this server wrote: a new call
        job = self._jobs.pop(job_id, None)
        if job is None:
            return error_result(
                "that confirmation is no longer open (the call ended or the question timed out); call the tool again"
            )
        response = (ctx.input_responses or {}).get(kind)
        job.answer(question_id, _answer(kind, response))
        return job


async def drive(ctx: Context[Any, Any], job: Job, parked: Parked) -> CallToolResult | InputRequiredResult:
    """Wait for ``job``, passing its progress and questions to the client (see the module docstring)."""
    try:
        while True:
            await anyio.to_thread.run_sync(job.wait, 0.5, abandon_on_cancel=True)
            for progress, total, message in job.take_progress():
                try:
                    await ctx.report_progress(progress, total, message)
                except Exception:  # noqa: BLE001 - progress is best effort; the call goes on
                    logger.debug("guiagent mcp: progress could not be sent", exc_info=True)
            result = job.result
            if result is not None:
                return result
            question = job.take_question()
            if question is None:
                continue
            if not _can_elicit(ctx):
                job.answer(question.id, Answer(False, why=NO_ELICITATION))
            elif _asks_by_returning(ctx):
                parked.park(job)
                state = json.dumps({"job": job.id, "question": question.id, "kind": question.kind})
                return InputRequiredResult(input_requests={question.kind: _request(question)}, request_state=state)
            else:
                job.answer(question.id, await _ask_now(ctx, question, job.answer_timeout))
    except anyio.get_cancelled_exc_class():
        job.cancel()
        raise


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    """Whether the client declared form elicitation (a bare ``elicitation: {}`` is form, as before modes)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _asks_by_returning(ctx: Context[Any, Any]) -> bool:
    version = ctx.protocol_version
    return version is not None and is_version_at_least(version, _INPUT_REQUIRED)


def _request(question: Question) -> ElicitRequest:
    schema = render_elicitation_schema(_SCHEMAS[question.kind])
    return ElicitRequest(params=ElicitRequestFormParams(message=question.message, requested_schema=schema))


async def _ask_now(ctx: Context[Any, Any], question: Question, timeout: float) -> Answer:
    """Ask over the back-channel (protocol up to 2025-11-25), waiting at most ``timeout`` seconds."""
    try:
        with anyio.fail_after(timeout):
            result = await ctx.elicit(question.message, _SCHEMAS[question.kind])
    except TimeoutError:
        return Answer(False, why=f"no answer from the MCP client within {timeout:g} s")
    except Exception as exc:  # noqa: BLE001 - a question that cannot be delivered is a no, never a bypass
        return Answer(False, why=f"the MCP client could not be asked ({type(exc).__name__}: {exc}), so it is a no")
    if result.action != "accept":
        return Answer(False, why=_NOT_ACCEPTED[result.action])
    return _accepted(question.kind, result.data)


def _answer(kind: str, response: Any) -> Answer:
    """The answer a 2026-07-28 client sent back in ``input_responses``."""
    if not isinstance(response, ElicitResult):
        return Answer(False, why="the MCP client sent no answer to the question, so it is a no")
    if response.action != "accept":
        return Answer(False, why=_NOT_ACCEPTED[response.action])
    try:
        data = _SCHEMAS[kind].model_validate(response.content or {})
    except ValidationError:
        return Answer(False, why="the MCP client's answer did not fit the question, so it is a no")
    return _accepted(kind, data)


def _accepted(kind: str, data: BaseModel) -> Answer:
    if isinstance(data, Confirmation):
        return Answer(True) if data.allow else Answer(False, why="the person said no")
    return Answer(True, text=data.text if isinstance(data, Reply) else "")


_NOT_ACCEPTED = {
    "decline": "the person declined",
    "cancel": "the person dismissed the question, so it is a no",
    "accept": "",
}

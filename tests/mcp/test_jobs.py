"""``Job`` on its own: a question nobody answers is a no, a cancelled call's question is a no, answers reach
the waiting thread, and an exception that escapes the work becomes an error result, not a dead server."""

from __future__ import annotations

import time

from mcp_types import CallToolResult, TextContent

from guiagent.tasks.mcp.jobs import Answer, Job


def _finish(job: Job, timeout: float = 5.0) -> CallToolResult:
    deadline = time.monotonic() + timeout
    while job.result is None:
        assert time.monotonic() < deadline, "the job did not finish"
        job.wait(0.05)
    return job.result


def _asking(job: Job) -> CallToolResult:
    answer = job.ask("confirm", "May I?")
    return CallToolResult(content=[TextContent(type="text", text=f"{answer.yes} {answer.why}")])


def test_an_unanswered_question_is_a_no_after_the_timeout() -> None:
    job = Job("ask", _asking, answer_timeout=0.05)
    result = _finish(job)
    assert result.content[0].text.startswith("False no answer from the MCP client within 0.05 s")
    assert job.refusals == ["no answer from the MCP client within 0.05 s"]


def test_an_answer_reaches_the_waiting_thread_once() -> None:
    job = Job("ask", _asking, answer_timeout=5)
    deadline = time.monotonic() + 5
    question = None
    while question is None and time.monotonic() < deadline:
        job.wait(0.05)
        question = job.take_question()
    assert question is not None and question.message == "May I?" and job.take_question() is None
    job.answer("another question", Answer(False, why="ignored"))
    job.answer(question.id, Answer(True))
    assert _finish(job).content[0].text == "True "


def test_a_cancelled_call_is_a_no_and_a_crash_is_an_error_result() -> None:
    job = Job("ask", _asking, answer_timeout=5)
    job.cancel()
    assert "cancelled" in _finish(job).content[0].text

    def crash(job: Job) -> CallToolResult:
        raise RuntimeError("a bug")

    crashed = _finish(Job("crash", crash, answer_timeout=1))
    assert crashed.is_error and "internal error" in crashed.content[0].text

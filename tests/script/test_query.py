"""``Session.query``: typed data off the virtual phone's screen, through a real HTTP model server.

Structured output is sent (``response_format`` with the schema) and the answer validated; an answer that
does not validate goes back once with the error, then a typed error; a server that refuses
``response_format`` is asked again without it, and not sent it again.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from guiagent.actions.families import get_family
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from guiagent.envs.android import AndroidEnv
from guiagent.tasks.script import ModelRequired, ScriptQueryError, Session, SessionConfig
from tests.fixtures.openai_server import Fail, request_text

FAMILY = get_family("qwen2.5-vl-mobile")


class Note(BaseModel):
    title: str
    words: int


@pytest.fixture
def env(virtual_phone, adb_server):
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as android:
        yield android


def session(env, server, tmp_path) -> Session:
    backend = OpenAICompatibleBackend("scripted", server.url, retry_wait=0.01, max_attempts=1)
    return Session(env, backend, FAMILY, config=SessionConfig(out_dir=tmp_path))


def test_a_pydantic_schema_is_sent_as_response_format_and_the_answer_validated(env, scripted_server, tmp_path) -> None:
    scripted_server.script = ['{"title": "Shopping list", "words": 6}', "12.5", '{"value": 3}']
    with session(env, scripted_server, tmp_path) as s:
        note = s.query("the first note", Note).value
        price = s.query("the total price", float).value
        count = s.query("how many notes", int).value
    assert note == Note(title="Shopping list", words=6)
    assert price == 12.5 and count == 3
    first, second, _ = scripted_server.requests
    assert first["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Note", "schema": Note.model_json_schema()},
    }
    wrapped = second["response_format"]["json_schema"]["schema"]
    assert wrapped["properties"]["value"] == {"type": "number"} and wrapped["required"] == ["value"]
    assert "the total price" in request_text(second)
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert s.model_calls == 3
    record = s.records[0]
    assert record.reply == '{"title": "Shopping list", "words": 6}' and "structured output" in " ".join(record.notes)


def test_invalid_json_is_asked_again_once_then_a_typed_error(env, scripted_server, tmp_path) -> None:
    scripted_server.script = ["The note is about shopping.", '{"title": "Shopping", "words": "many"}']
    s = session(env, scripted_server, tmp_path)
    with pytest.raises(ScriptQueryError) as caught, s:
        s.query("the first note", Note)
    error = caught.value
    assert error.raw_text == '{"title": "Shopping", "words": "many"}' and "words" in error.reason
    assert error.step == 1
    assert len(scripted_server.requests) == 2
    again = scripted_server.requests[1]["messages"]
    assert again[-2] == {"role": "assistant", "content": [{"type": "text", "text": "The note is about shopping."}]}
    assert "not valid" in again[-1]["content"][0]["text"] and "no JSON" in again[-1]["content"][0]["text"]
    assert s.close().status == "failure"
    assert s.records[0].error.type == "ScriptQueryError"


def test_a_server_that_refuses_response_format_is_asked_without_it(env, scripted_server, tmp_path) -> None:
    scripted_server.script = [Fail(400, "response_format is not supported by this server"), "41", "42"]
    with session(env, scripted_server, tmp_path) as s:
        assert s.query("a number", int).value == 41
        assert s.query("another number", int).value == 42
    refused, plain, later = scripted_server.requests
    assert "response_format" in refused and "response_format" not in plain and "response_format" not in later
    assert "refused response_format" in " ".join(s.records[0].notes)
    assert s.model_calls == 3


def test_a_query_without_a_model_is_refused(env, tmp_path) -> None:
    with pytest.raises(ModelRequired), Session(env, config=SessionConfig(out_dir=tmp_path)) as s:
        s.query("anything", int)

"""The OpenAI-compatible backend against a real HTTP server: payloads, retries, and errors that explain."""

from __future__ import annotations

import socket

import pytest
from PIL import Image

from guiagent.actions.errors import ConfigError, ModelRequestError, ModelUnavailable
from guiagent.actions.messages import ImageSlot, Message, TextPart
from guiagent.agent.backends.base import ModelRequest
from guiagent.agent.backends.openai_compat import OpenAICompatibleBackend
from tests.fixtures.openai_server import Body, Fail, Stall, data_url_size


def _request(keep_special_tokens: bool = False) -> ModelRequest:
    messages = [
        Message.text("system", "You are a helpful assistant."),
        Message("user", (TextPart("Tap OK"), ImageSlot("current", 112, 224))),
    ]
    return ModelRequest(
        messages, {"current": Image.new("RGB", (112, 224), "white")}, keep_special_tokens=keep_special_tokens
    )


def test_sends_images_inline_at_their_slot_size(scripted_server) -> None:
    scripted_server.script = ["<tool_call>{}</tool_call>"]
    backend = OpenAICompatibleBackend("tiny-qwen", scripted_server.url, api_key="sk-test-123")
    reply = backend.complete(_request())
    assert reply.text == "<tool_call>{}</tool_call>"
    assert reply.prompt_tokens and reply.completion_tokens and reply.seconds > 0
    body = scripted_server.requests[0]
    assert body["model"] == "tiny-qwen" and body["temperature"] == 0.0
    image_part = body["messages"][1]["content"][1]
    assert data_url_size(image_part["image_url"]["url"]) == (112, 224)
    assert body["_headers"]["authorization"] == "Bearer sk-test-123"
    assert "skip_special_tokens" not in body


def test_asks_to_keep_special_tokens_when_the_family_needs_them(scripted_server) -> None:
    scripted_server.script = ["<|box_start|>(1,2)<|box_end|>"]
    backend = OpenAICompatibleBackend("m", scripted_server.url, image_format="png")
    backend.complete(_request(keep_special_tokens=True))
    body = scripted_server.requests[0]
    assert body["skip_special_tokens"] is False
    assert body["messages"][1]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_retries_5xx_and_429_then_succeeds(scripted_server) -> None:
    scripted_server.script = [Fail(500), Fail(503), Fail(429), "done"]
    backend = OpenAICompatibleBackend("m", scripted_server.url, max_attempts=4, retry_wait=0.01)
    assert backend.complete(_request()).text == "done"
    assert len(scripted_server.requests) == 4


def test_gives_up_after_the_last_attempt(scripted_server) -> None:
    scripted_server.script = [Fail(500), Fail(500)]
    backend = OpenAICompatibleBackend("m", scripted_server.url, max_attempts=2, retry_wait=0.01)
    with pytest.raises(ModelUnavailable, match="failed 2 time"):
        backend.complete(_request())


def test_client_errors_are_not_retried_and_the_image_limit_names_the_flag(scripted_server) -> None:
    scripted_server.script = [Fail(400, "At most 1 image(s) may be provided in one request."), "never"]
    backend = OpenAICompatibleBackend("m", scripted_server.url, api_key="sk-secret-xyz")
    with pytest.raises(ModelRequestError) as info:
        backend.complete(_request())
    assert len(scripted_server.requests) == 1
    assert "--limit-mm-per-prompt" in str(info.value) and info.value.status == 400
    assert "sk-secret-xyz" not in str(info.value)


def test_unauthorised_and_wrong_path_explain_the_fix(scripted_server) -> None:
    scripted_server.script = [Fail(401, "bad key")]
    with pytest.raises(ModelRequestError, match="OPENAI_API_KEY"):
        OpenAICompatibleBackend("m", scripted_server.url).complete(_request())
    with pytest.raises(ModelRequestError, match="usually ends in /v1"):
        OpenAICompatibleBackend("m", scripted_server.url.removesuffix("/v1")).complete(_request())


def test_a_server_that_never_answers_in_time(scripted_server) -> None:
    scripted_server.script = [Stall(2.0, "late"), Stall(2.0, "late")]
    backend = OpenAICompatibleBackend("m", scripted_server.url, timeout=0.3, max_attempts=2, retry_wait=0.01)
    with pytest.raises(ModelUnavailable, match="no answer within 0.3 s"):
        backend.complete(_request())


def test_connection_refused_is_model_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = OpenAICompatibleBackend("m", f"http://127.0.0.1:{port}/v1", max_attempts=2, retry_wait=0.01)
    with pytest.raises(ModelUnavailable, match="cannot reach the server"):
        backend.complete(_request())


def test_configuration_errors(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="--base-url"):
        OpenAICompatibleBackend("m")
    with pytest.raises(ConfigError, match="http://"):
        OpenAICompatibleBackend("m", "localhost:8000/v1")


def test_wrongly_sized_images_are_refused_before_sending(scripted_server) -> None:
    messages = [Message("user", (ImageSlot("current", 112, 224),))]
    request = ModelRequest(messages, {"current": Image.new("RGB", (100, 200))})
    with pytest.raises(ValueError, match="resize it with the family's plan"):
        OpenAICompatibleBackend("m", scripted_server.url).complete(request)
    assert scripted_server.requests == []


def _answer(content: object, usage: object) -> Body:
    message = {"role": "assistant", "content": content}
    return Body({"choices": [{"index": 0, "message": message}], "model": "m", "usage": usage})


@pytest.mark.parametrize(
    "usage",
    [[], "lots", 7, {"prompt_tokens": "12", "completion_tokens": 3.5}, {"prompt_tokens": True}, {"prompt_tokens": -1}],
)
def test_odd_usage_costs_the_token_figures_not_the_run(scripted_server, usage: object) -> None:
    """A 200 answer whose ``usage`` is not an object, or whose counts are not counts, once crashed the run
    with AttributeError or TypeError; usage is advice, so the reply stands and the counts are unknown."""
    scripted_server.script = [_answer("CLICK", usage)]
    reply = OpenAICompatibleBackend("m", scripted_server.url).complete(_request())
    assert reply.text == "CLICK" and reply.prompt_tokens is None and reply.completion_tokens is None


def test_content_that_is_not_text_is_a_typed_error(scripted_server) -> None:
    scripted_server.script = [_answer({"text": "CLICK"}, {})]
    backend = OpenAICompatibleBackend("m", scripted_server.url, max_attempts=1)
    with pytest.raises(ModelUnavailable, match=r"content is dict, not text"):
        backend.complete(_request())

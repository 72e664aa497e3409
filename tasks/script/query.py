"""Reading typed data off the screen: ``query("the total price", schema=float)``.

The answer is JSON validated against a schema (a pydantic model, or any type pydantic validates:
``float``, ``int``, ``bool``, ``list[str]``...). Three layers keep it typed:

1. Structured output: the request carries ``response_format`` with the schema as a JSON Schema
   (``{"type": "json_schema", ...}``, which vLLM and OpenAI honour), so the server can only produce
   valid JSON. A server that refuses the field (HTTP 400 naming ``response_format``) is asked again
   without it, and the session stops sending it.
2. Validation, always: whatever came back is parsed and validated here, structured output or not.
3. One re-ask: an answer that does not validate goes back to the model with the validation error;
   a second failure is a ``ScriptQueryError`` carrying the answer and the reason.

Schemas that are not objects (``float``) are wrapped as ``{"value": ...}`` on the wire, because
structured-output servers want an object at the root; a bare ``12.5`` is accepted back as well.

``response_format`` rides on the backend's ``extra_body`` (``OpenAICompatibleBackend``) of a shallow copy
made for the one request: ``ModelRequest`` has no per-request fields, and the shared backend is never
mutated. Backends without ``extra_body`` (the in-process model) get layers 2 and 3 only.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from guiagent.actions.errors import ModelRequestError
from guiagent.actions.families import ModelFamily
from guiagent.actions.messages import CURRENT_IMAGE, Message, TextPart
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest
from guiagent.agent.images import prepare_image
from guiagent.agent.records import message_json
from guiagent.envs.base import Observation

from .errors import ScriptQueryError

__all__ = ["QueryAnswer", "Schema", "ask_model", "response_format"]

QUERY_TOKENS = 512
_SYSTEM = (
    "You read the screen in the image and answer a question about what it shows. Reply with JSON only, no "
    "other text, matching this JSON Schema:\n{schema}"
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_REFUSED_FIELD = re.compile(r"response_format|json_schema|guided|structured", re.IGNORECASE)


@dataclass(frozen=True)
class Schema:
    """A query's schema: how its answer is validated, and the JSON Schema the model is shown."""

    adapter: TypeAdapter[Any]
    json_schema: dict[str, Any]
    wrapped: bool
    """The wire form is ``{"value": ...}`` around a schema that is not an object."""
    name: str

    @classmethod
    def of(cls, schema: Any) -> Schema:
        """A schema from a pydantic model or any type pydantic can validate."""
        adapter: TypeAdapter[Any] = TypeAdapter(schema)
        inner = adapter.json_schema()
        name = getattr(schema, "__name__", None) or "answer"
        if inner.get("type") == "object" or (isinstance(schema, type) and issubclass(schema, BaseModel)):
            return cls(adapter, inner, False, name)
        wrapper = {
            "type": "object",
            "properties": {"value": inner},
            "required": ["value"],
            "additionalProperties": False,
        }
        if "$defs" in inner:
            wrapper["$defs"] = inner.pop("$defs")
        return cls(adapter, wrapper, True, name)

    def validate(self, text: str) -> Any:
        """The validated answer in ``text`` (JSON, possibly fenced or wrapped).

        Raises:
            ValueError: no JSON, or JSON that does not validate (the message is one line for the model).
        """
        data = _json_in(text)
        if self.wrapped and isinstance(data, dict) and set(data) == {"value"}:
            data = data["value"]
        try:
            return self.adapter.validate_python(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ValueError(
                f"{where + ': ' if where else ''}{first.get('msg')} (got {json.dumps(data)[:200]})"
            ) from None


def _json_in(text: str) -> Any:
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for index, char in enumerate(stripped):
        if char in "{[":
            try:
                return decoder.raw_decode(stripped, index)[0]
            except ValueError:
                continue
    raise ValueError(f"the answer holds no JSON: {stripped[:200]!r}")


def response_format(schema: Schema) -> dict[str, Any]:
    """The ``response_format`` body field for a schema (OpenAI's ``json_schema`` form, which vLLM takes)."""
    return {"type": "json_schema", "json_schema": {"name": _safe_name(schema.name), "schema": schema.json_schema}}


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64]
    return cleaned or "answer"


@dataclass
class QueryAnswer:
    """A validated answer and how it was obtained (the session records all of it)."""

    value: Any
    replies: list[str]
    prompt: list[dict[str, Any]]
    model_image: dict[str, Any]
    structured: bool
    """Whether the answer came with ``response_format`` sent."""
    timings: dict[str, float] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def ask_model(
    model: ModelBackend,
    family: ModelFamily,
    ask: str,
    schema: Schema,
    observation: Observation,
    structured: bool,
    on_refused: Callable[[], None] | None = None,
    max_new_tokens: int = QUERY_TOKENS,
    on_request: Callable[[], None] | None = None,
) -> QueryAnswer:
    """Ask ``ask`` about the screen and return a validated answer (see the module docstring).

    Args:
        structured: try ``response_format`` (the session's memory of whether the server takes it).
        on_refused: called when the server refuses ``response_format``.
        on_request: called before each request is sent (the session counts model calls with it).

    Raises:
        ScriptQueryError: two answers in a row did not validate.
        ModelError: the backend failed.
    """
    screen = observation.geometry.size
    plan = family.image_plan(screen)
    image = prepare_image(observation.image, plan)
    system = _SYSTEM.format(schema=json.dumps(schema.json_schema, ensure_ascii=False))
    messages = [Message.text("system", system), Message("user", (family.current_image(screen), TextPart(ask)))]
    answer = QueryAnswer(None, [], [], {"width": plan.model.width, "height": plan.model.height}, structured)
    answer.timings = {"model": 0.0}
    reason = ""
    for _ in range(2):
        request = ModelRequest(messages, {CURRENT_IMAGE: image}, max_new_tokens=max_new_tokens, temperature=0.0)
        reply = _complete(model, request, schema, answer, on_refused, on_request)
        answer.replies.append(reply.text)
        answer.timings["model"] += reply.seconds
        answer.prompt_tokens = _add(answer.prompt_tokens, reply.prompt_tokens)
        answer.completion_tokens = _add(answer.completion_tokens, reply.completion_tokens)
        answer.prompt = [message_json(m) for m in messages]
        try:
            answer.value = schema.validate(reply.text)
            return answer
        except ValueError as exc:
            reason = str(exc)
            messages = [
                *messages,
                Message.text("assistant", reply.text),
                Message.text("user", f"That answer is not valid: {reason}. Reply with JSON matching the schema only."),
            ]
    raise ScriptQueryError(
        f"the answer to {ask!r} did not validate, twice: {reason}",
        what=ask,
        raw_text=answer.replies[-1],
        reason=reason,
    )


def _complete(
    model: ModelBackend,
    request: ModelRequest,
    schema: Schema,
    answer: QueryAnswer,
    on_refused: Callable[[], None] | None,
    on_request: Callable[[], None] | None,
) -> ModelReply:
    count = on_request or (lambda: None)
    extra = getattr(model, "extra_body", None)
    if not answer.structured or not isinstance(extra, dict):
        answer.structured = False
        count()
        return model.complete(request)
    constrained = copy.copy(model)
    constrained.extra_body = {**extra, "response_format": response_format(schema)}  # type: ignore[attr-defined]
    try:
        count()
        return constrained.complete(request)
    except ModelRequestError as exc:
        if exc.status not in (400, 422) or not _REFUSED_FIELD.search(str(exc)):
            raise
    answer.structured = False
    if on_refused is not None:
        on_refused()
    count()
    return model.complete(request)


def _add(total: int | None, more: int | None) -> int | None:
    return more if total is None else total + (more or 0)

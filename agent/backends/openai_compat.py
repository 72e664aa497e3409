"""Any OpenAI-compatible chat-completions endpoint: vLLM, SGLang, DashScope, a local test server.

Images go inline as data URLs at exactly their slot size, so the server's own resize finds nothing to do.
Connection errors, timeouts, 429 and 5xx are retried with exponential backoff (tenacity); other 4xx are
the request's fault and fail at once, with vLLM's "At most N image(s) may be provided" turned into the
server flag that fixes it. The API key is sent in a header and never appears in errors or logs.

A request with a ``deadline`` (the run's time limit) never outlasts it: each attempt's timeout is the
smaller of ``timeout`` and the time left, a backoff is cut to the time left, and no attempt starts after
it; then ``DeadlineReached`` is raised, with the failure being retried, if any.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from guiagent.actions.errors import ConfigError, ModelRequestError, ModelUnavailable
from guiagent.actions.messages import ImageSlot, TextPart

from ..images import ImageFormat, image_data_url
from .base import DeadlineReached, ModelBackend, ModelReply, ModelRequest

__all__ = ["OpenAICompatibleBackend"]

_IMAGE_LIMIT = re.compile(r"At most (\d+) image", re.IGNORECASE)


class _Retryable(Exception):
    """Internal: a failure worth another attempt (connection, timeout, 429, 5xx)."""

    def __init__(self, message: str, status: int | None = None, timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out


class _Deadline(Exception):
    """Internal: the request's deadline passed (before an attempt, or during one whose timeout it capped)."""


class OpenAICompatibleBackend(ModelBackend):
    """Chat completions over HTTP.

    Args:
        model: the model name the server serves (``Qwen/Qwen2.5-VL-7B-Instruct``).
        base_url: e.g. ``http://localhost:8000/v1``; defaults to ``OPENAI_BASE_URL``.
        api_key: defaults to ``OPENAI_API_KEY``; ``EMPTY`` is fine for vLLM without ``--api-key``.
        timeout: seconds per HTTP attempt.
        max_attempts: attempts per request for retryable failures (1 = no retries).
        retry_wait: first backoff in seconds; it doubles per attempt, up to 8 s.
        image_format: ``jpeg`` (quality 95; ~10x faster to encode than PNG) or ``png`` (lossless).
        extra_body: extra fields merged into every request body (e.g. ``{"top_k": 1}``).
        transport: an httpx transport (tests inject one; normally None).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 120.0,
        max_attempts: int = 4,
        retry_wait: float = 0.5,
        image_format: ImageFormat = "jpeg",
        extra_body: dict[str, Any] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise ConfigError(
                "no model endpoint: pass --base-url URL (e.g. http://localhost:8000/v1) or set OPENAI_BASE_URL"
            )
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL {url!r} must start with http:// or https://")
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.model_id = model
        self.base_url = url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.retry_wait = retry_wait
        self.image_format: ImageFormat = image_format
        self.extra_body = dict(extra_body or {})
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "EMPTY")
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={"Authorization": f"Bearer {key}"},
            transport=transport,
        )

    def payload(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body for a request (images inline as data URLs)."""
        images = {slot.key: image for slot, image in request.ordered_images()}
        messages: list[dict[str, Any]] = []
        for message in request.messages:
            content: list[dict[str, Any]] = []
            for part in message.content:
                if isinstance(part, TextPart):
                    content.append({"type": "text", "text": part.text})
                elif isinstance(part, ImageSlot):
                    url = image_data_url(images[part.key], self.image_format)
                    content.append({"type": "image_url", "image_url": {"url": url}})
            messages.append({"role": message.role, "content": content})
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
        }
        if request.keep_special_tokens:
            body["skip_special_tokens"] = False
            body["spaces_between_special_tokens"] = False
        body.update(self.extra_body)
        return body

    def complete(self, request: ModelRequest) -> ModelReply:
        started = time.perf_counter()
        body = self.payload(request)
        prepared = time.perf_counter() - started
        deadline = request.deadline
        backoff = wait_exponential(multiplier=self.retry_wait, max=8.0)

        def wait(state: RetryCallState) -> float:  # never sleep past the deadline: the next attempt then stops
            pause = float(backoff(state))
            return pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic()))

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            reraise=True,
        )
        last: list[str] = []
        try:
            data = retrying(self._post, body, deadline, last)
        except _Retryable as exc:
            raise ModelUnavailable(
                f"{self.base_url} failed {self.max_attempts} time(s): {exc}", self.model_id
            ) from None
        except _Deadline:
            waited = time.perf_counter() - started
            after = f" (retrying after: {last[-1]})" if last else ""
            raise DeadlineReached(
                f"no reply from {self.base_url} before the run's time limit; waited {waited:.1f} s{after}",
                self.model_id,
                waited,
                last[-1] if last else "",
            ) from None
        return self._reply(data, time.perf_counter() - started, prepared)

    def _post(
        self, body: dict[str, Any], deadline: float | None = None, errors: list[str] | None = None
    ) -> dict[str, Any]:
        """One attempt; its timeout is capped by ``deadline``; retryable failures are appended to ``errors``."""
        timeout, capped = self.timeout, False
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Deadline
            timeout, capped = min(timeout, left), left < timeout
        try:
            return self._attempt(body, timeout)
        except _Retryable as exc:
            if errors is not None and not (capped and exc.timed_out):
                errors.append(str(exc))
            if deadline is not None and ((capped and exc.timed_out) or time.monotonic() >= deadline):
                raise _Deadline from None  # cut by the deadline, or failed as it passed: no time for another
            raise

    def _attempt(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            response = self._client.post(
                "/chat/completions", json=body, timeout=httpx.Timeout(timeout, connect=min(10.0, timeout))
            )
        except httpx.TimeoutException:
            raise _Retryable(f"no answer within {timeout:.3g} s", timed_out=True) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"cannot reach the server ({type(exc).__name__}: {exc})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}: {_error_text(response)}", response.status_code)
        if response.status_code >= 400:
            raise self._request_error(response)
        try:
            data = response.json()
        except ValueError:
            raise _Retryable(f"the server answered with non-JSON: {response.text[:200]!r}") from None
        if not isinstance(data, dict):
            raise _Retryable("the server answered with JSON that is not an object")
        return data

    def _request_error(self, response: httpx.Response) -> ModelRequestError:
        text = _error_text(response)
        limit = _IMAGE_LIMIT.search(text)
        if limit:
            return ModelRequestError(
                f"the server accepts at most {limit.group(1)} image(s) per request but guiagent sent more: "
                "restart vLLM with a higher --limit-mm-per-prompt (e.g. '{\"image\": 5}'), or lower "
                f"--history-images. Server said: {text}",
                self.model_id,
                response.status_code,
            )
        if response.status_code in (401, 403):
            return ModelRequestError(
                f"HTTP {response.status_code}: the server refused the API key (set OPENAI_API_KEY or --api-key)",
                self.model_id,
                response.status_code,
            )
        if response.status_code == 404:
            return ModelRequestError(
                f"HTTP 404 from {self.base_url}/chat/completions: check --base-url (it usually ends in /v1) "
                f"and the model name {self.model_id!r}. Server said: {text}",
                self.model_id,
                404,
            )
        return ModelRequestError(f"HTTP {response.status_code}: {text}", self.model_id, response.status_code)

    def _reply(self, data: dict[str, Any], seconds: float, prepared: float) -> ModelReply:
        try:
            choice = data["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ModelUnavailable(
                f"the server's answer has no choices[0].message.content: {str(data)[:300]}", self.model_id
            ) from None
        if isinstance(content, list):  # some servers return content parts
            content = "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
        if content is not None and not isinstance(content, str):
            raise ModelUnavailable(
                f"the server's choices[0].message.content is {type(content).__name__}, not text: {str(content)[:300]}",
                self.model_id,
            )
        usage = data.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        return ModelReply(
            text=content or "",
            prompt_tokens=_token_count(usage.get("prompt_tokens")),
            completion_tokens=_token_count(usage.get("completion_tokens")),
            seconds=seconds,
            model=str(data.get("model") or self.model_id),
            prepare_seconds=prepared,
        )

    def close(self) -> None:
        self._client.close()


def _token_count(value: object) -> int | None:
    """A token count from ``usage``, or None when the server gave none or something that is not one.

    Usage is advice (it feeds the resize check and the token totals), so a server that fills it with
    ``null``, text or ``true`` costs those figures, never the run.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _error_text(response: httpx.Response) -> str:
    """The server's error message (OpenAI's ``{"error": {"message": ...}}`` or vLLM's ``{"message": ...}``)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:500]
        if isinstance(error, str):
            return error[:500]
    return str(data)[:500]

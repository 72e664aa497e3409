"""What ``guiagent doctor --base-url URL`` asks the model server, the way a run would use it.

Four questions, each one cheap request:

* is it reachable, and does the API key pass (``GET /models``)?
* which models does it serve, and is ``--model`` one of them?
* how many images does it take per request? A run sends the screenshot plus the family's earlier ones;
  vLLM's default ``--limit-mm-per-prompt`` is one image, and a two-image request finds that out before a
  run does (its error names the flag).
* does it resize the screenshots again? guiagent sends each at its family's size and knows the image
  tokens exactly; the prompt tokens the server reports for one phone screenshot say whether it saw them
  all (``guiagent.agent.server_checks.check_image_tokens``). A second resize makes pixel families miss.

Requests are made once (no retries) with ``max_tokens`` 1, through the same ``OpenAICompatibleBackend`` a
run uses (same image encoding, same ``--extra-body``).
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from PIL import Image, ImageDraw

from guiagent.actions.errors import GuiAgentError, ModelRequestError
from guiagent.actions.families import ModelFamily
from guiagent.actions.geometry import Size
from guiagent.actions.messages import ImageSlot, Message, TextPart

from .doctor_checks import Check

__all__ = ["PHONE_SCREEN", "endpoint_checks"]

PHONE_SCREEN = Size(1080, 2400)
"""The screenshot the resize check sends (a common phone size; what the family does to it is what a run does)."""
_LIMIT_FIX = "restart vLLM with --limit-mm-per-prompt '{{\"image\": {n}}}' (or run with --history-images 0)"


def _screen(size: Size) -> Image.Image:
    """A plain synthetic screenshot (bars and blocks), so the image costs its true token count."""
    image = Image.new("RGB", (size.width, size.height), (246, 247, 249))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size.width, size.height // 30), fill=(30, 30, 36))
    for row in range(8):
        top = size.height // 8 + row * size.height // 10
        draw.rectangle((size.width // 20, top, size.width * 19 // 20, top + size.height // 16), fill=(220, 230, 240))
    return image


def _request(family: ModelFamily, count: int) -> Any:
    from guiagent.agent.backends.base import ModelRequest
    from guiagent.agent.images import prepare_image

    plan = family.image_plan(PHONE_SCREEN)
    picture = prepare_image(_screen(PHONE_SCREEN), plan)
    slots = tuple(ImageSlot(f"doctor-{i}", plan.model.width, plan.model.height) for i in range(count))
    text = TextPart("guiagent doctor: a check of the server's image handling. Reply with one word.")
    messages = [Message("user", (*slots, text))]
    return ModelRequest(messages, {slot.key: picture for slot in slots}, max_new_tokens=1)


def endpoint_checks(backend: Any, family: ModelFamily, api_key: str, history_images: int) -> list[Check]:
    """Reachable, models, image limit and resizing, for an ``OpenAICompatibleBackend``'s server."""
    base = backend.base_url
    started = time.perf_counter()
    try:
        response = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=backend.timeout)
    except httpx.HTTPError as exc:
        fix = "start the server (e.g. vllm serve MODEL --port 8000), or check --base-url (it usually ends in /v1)"
        return [Check("endpoint", "fail", f"{base} cannot be reached ({type(exc).__name__}: {exc})", fix)]
    seconds = time.perf_counter() - started
    if response.status_code in (401, 403):
        fix = "pass the server's key with --api-key or $OPENAI_API_KEY"
        return [Check("endpoint", "fail", f"{base} refused the API key (HTTP {response.status_code})", fix)]
    if response.status_code >= 400:
        fix = "check --base-url: OpenAI-compatible servers answer under /v1 (http://HOST:PORT/v1)"
        return [Check("endpoint", "fail", f"GET {base}/models answered HTTP {response.status_code}", fix)]
    checks = [Check("endpoint", "ok", f"{base} answered in {seconds:.2f} s")]
    checks.append(_models(response, backend.model_id))
    checks.append(_image_limit(backend, family, history_images))
    checks.append(_resizing(backend, family))
    return checks


def _models(response: httpx.Response, wanted: str) -> Check:
    try:
        served = [str(item["id"]) for item in response.json().get("data", [])]
    except (ValueError, AttributeError, KeyError, TypeError):
        return Check("models", "skip", "the /models answer is not the OpenAI list; cannot tell which are served")
    if not served:
        return Check("models", "fail", "the server lists no models", "start the server with a model to serve")
    shown = ", ".join(served)
    if wanted in served:
        return Check("models", "ok", f"serves {shown}")
    return Check("models", "fail", f"serves {shown}, not {wanted}", f"use --model {served[0]}")


def _image_limit(backend: Any, family: ModelFamily, history_images: int) -> Check:
    needed = 1 + history_images
    try:
        backend.complete(_request(family, 2))
    except ModelRequestError as exc:
        text = str(exc)
        limit = re.search(r"at most (\d+) image", text, re.IGNORECASE)
        if limit:
            said = text.split("Server said: ", 1)[-1]
            detail = f"takes at most {limit.group(1)} image(s) per request, runs send up to {max(2, needed)}: {said}"
            return Check("image limit", "fail", detail, _LIMIT_FIX.format(n=max(2, needed)))
        return Check("image limit", "fail", f"a two-image request failed: {text[:200]}", "see the server's log")
    except GuiAgentError as exc:
        return Check("image limit", "fail", f"a two-image request failed: {exc}", "see the server's log")
    detail = f"a two-image request works; runs send up to {needed} (the screenshot and {history_images} earlier)"
    if needed > 2:
        detail += "; if runs fail with 'At most N image(s)', raise --limit-mm-per-prompt"
    return Check("image limit", "ok", detail)


def _resizing(backend: Any, family: ModelFamily) -> Check:
    from guiagent.agent.server_checks import check_image_tokens

    request = _request(family, 1)
    try:
        reply = backend.complete(request)
    except GuiAgentError as exc:
        return Check("image size", "fail", f"a one-image request failed: {exc}", "see the server's log")
    if not reply.prompt_tokens:
        return Check("image size", "skip", "the server reports no prompt tokens: cannot tell whether it resizes images")
    check = check_image_tokens(request.messages, family.factor, reply.prompt_tokens)
    slot = next(iter(request.messages[0].images()))
    sent = f"a {PHONE_SCREEN.width}x{PHONE_SCREEN.height} screenshot sent at {slot.width}x{slot.height}"
    if check.resized:
        return Check(
            "image size",
            "fail",
            f"{sent}: {reply.prompt_tokens} prompt tokens reported",
            check.explain(pixel_family=family.space_kind == "pixels"),
        )
    return Check("image size", "ok", f"not resized: {sent}, {check.sent} image tokens in {reply.prompt_tokens}")

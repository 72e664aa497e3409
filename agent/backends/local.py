"""The local backend: a Qwen2-VL-style model running in this process with transformers.

One ``TransformersBackend`` holds one model and is shared by every agent that uses it: generation runs under
a lock, one request at a time (a GPU runs one batch at a time anyway; for many devices at once, serve the
model with vLLM and use the OpenAI-compatible backend).

The image contract: every image arrives at exactly its ``ImageSlot`` size, which is the family's smart_resize
size. The processor's pixel limits are set equal to the family's (``min_pixels``/``max_pixels`` here), so its
own smart_resize finds nothing to change; an image it would still resize is refused before the model runs,
and the processor's ``image_grid_thw`` is checked after preprocessing, because a second resize would
silently move every coordinate the model answers with.

Loading is lazy: constructing a backend is cheap and imports nothing heavy; the model loads on the first
``complete`` (or on ``load()``, to fail fast and keep load time out of the first step's timing).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Sequence
from typing import Any

from guiagent.actions.errors import ConfigError, ModelError, ModelRequestError, ModelUnavailable
from guiagent.actions.geometry import DEFAULT_MAX_PIXELS, DEFAULT_MIN_PIXELS, smart_resize
from guiagent.actions.messages import ImageSlot, Message, TextPart

from .base import ModelBackend, ModelReply, ModelRequest
from .local_loading import DTYPES, LoadedModel, LoadOptions, is_out_of_memory, load_model, pixel_limits_of

__all__ = ["TransformersBackend", "to_hf_messages"]


def to_hf_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """guiagent messages in the chat format processors' templates read (images as ``{"type": "image"}``)."""
    return [
        {
            "role": message.role,
            "content": [
                {"type": "text", "text": part.text} if isinstance(part, TextPart) else {"type": "image"}
                for part in message.content
            ],
        }
        for message in messages
    ]


class TransformersBackend(ModelBackend):
    """A vision-language model loaded in-process with transformers.

    Args:
        model: a hub id (``Qwen/Qwen2.5-VL-7B-Instruct``) or a local folder holding config, weights,
            tokenizer and processor files.
        min_pixels: the processor's smallest image area; pass the family's ``pixel_limits[0]``. ``None``
            means guiagent's default (4·28², the families' and qwen-vl-utils' default), not the checkpoint's.
        max_pixels: the largest image area; pass the family's ``pixel_limits[1]`` (default 16384·28²).
        device_map: ``"auto"`` spreads the model over the GPUs (accelerate); without CUDA it loads plainly on
            the CPU. Anything else goes to ``from_pretrained`` as given (``"cpu"``, ``"cuda:1"``, a dict).
        dtype: ``"auto"`` (bfloat16 on CUDA — float16 where bf16 is unsupported —, float32 on the CPU),
            ``"bfloat16"``, ``"float16"`` or ``"float32"``.
        attn_implementation: the attention kernel; by default ``"flash_attention_2"`` on CUDA when
            ``flash_attn`` is installed, else ``"sdpa"``.
        trust_remote_code: allow model code from the checkpoint (not needed for Qwen2-VL/2.5-VL/3-VL).
        local_files_only: never ask the hub; only a local folder or the hub cache.
        image_factor: pixels per merged vision token side: 28 for Qwen2-VL/2.5-VL (patch 14), 32 for Qwen3-VL
            (patch 16); pass the family's ``factor``. ``None`` reads it from the loaded processor (patch size ×
            merge size), so image slots are then checked once the model has loaded.

    Raises:
        ConfigError: invalid pixel limits or dtype (at once); model not found, not loadable, or torch and
            transformers not installed (on ``load()`` or the first ``complete``).
    """

    def __init__(
        self,
        model: str = "Qwen/Qwen2.5-VL-7B-Instruct",
        *,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        device_map: str | dict[str, Any] | None = "auto",
        dtype: str = "auto",
        attn_implementation: str | None = None,
        trust_remote_code: bool = False,
        local_files_only: bool = False,
        image_factor: int | None = None,
    ) -> None:
        low = DEFAULT_MIN_PIXELS if min_pixels is None else min_pixels
        high = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
        if low <= 0 or high < low:
            raise ConfigError(f"pixel limits must satisfy 0 < min_pixels <= max_pixels, got ({low}, {high})")
        if image_factor is not None and image_factor <= 0:
            raise ConfigError(f"image_factor must be positive, got {image_factor}")
        if dtype.lower() not in DTYPES:
            raise ConfigError(f"unknown dtype {dtype!r}; choose one of: auto, bfloat16, float16, float32")
        self.model_id = model
        self._options = LoadOptions(
            model=model,
            min_pixels=low,
            max_pixels=high,
            device_map=device_map,
            dtype=dtype.lower(),
            attn_implementation=attn_implementation,
            trust_remote_code=trust_remote_code,
            local_files_only=local_files_only,
        )
        self._image_factor = image_factor
        self._loaded: LoadedModel | None = None
        self._closed = False
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("loaded" if self._loaded else "not loaded")
        return f"TransformersBackend({self.model_id!r}, pixel_limits={self.pixel_limits}, {state})"

    @property
    def pixel_limits(self) -> tuple[int, int]:
        """``(min_pixels, max_pixels)`` the processor is held to."""
        return self._options.min_pixels, self._options.max_pixels

    @property
    def loaded(self) -> LoadedModel | None:
        """The loaded model, processor and the choices made (device, dtype, attention, load time), if loaded."""
        return self._loaded

    def load(self) -> TransformersBackend:
        """Load the model now (it otherwise loads on the first ``complete``); a no-op once loaded.

        Raises:
            ConfigError: the model cannot be found or loaded; the message says how to fix it.
            ModelUnavailable: the backend was closed, or the weights do not fit in memory.
        """
        self._ensure_loaded()
        return self

    def complete(self, request: ModelRequest) -> ModelReply:
        """Generate a reply, greedily when ``request.temperature`` is 0.

        ``seconds`` covers waiting for the lock, preprocessing, generation and decoding, not loading;
        ``prepare_seconds`` is the preprocessing part (chat template, tokenizing, image patches).
        Sampling settings the request does not carry (``top_p``, ``top_k``, ``repetition_penalty``) come from
        the checkpoint's ``generation_config.json``, as vLLM applies them too.

        Raises:
            ModelRequestError: the request is wrong (no messages, a missing image, an image not at its slot's
                size or not a multiple of 28 px); checked before the model loads or runs.
            ConfigError: an image the processor would resize because its slot lies outside this backend's
                pixel limits (the backend and the family disagree); or the model cannot load.
            ModelUnavailable: out of memory (lower ``max_pixels`` or send fewer history images), or closed.
            ModelError: generation failed otherwise.
        """
        started = time.perf_counter()
        ordered = self._ordered_images(request)
        if self._image_factor is not None:  # every check before the model loads
            self._check_slots(ordered, self._image_factor)
            loaded, load_seconds = self._ensure_loaded()
        else:  # the factor comes from the processor: load, then check the slots
            loaded, load_seconds = self._ensure_loaded()
            self._check_slots(ordered, _factor_of(loaded))
        images = [image for _slot, image in ordered]
        with self._generate_lock:
            if self._loaded is None:
                raise ModelUnavailable(f"{self!r} was closed while the request waited", self.model_id)
            prepare_started = time.perf_counter()
            inputs = self._prepare(loaded, request, images)
            prepare_seconds = time.perf_counter() - prepare_started
            prompt_tokens = int(inputs["input_ids"].shape[1])
            output = self._generate(loaded, inputs, request, prompt_tokens)
            generated = [int(t) for t in output[0, prompt_tokens:].tolist()]
            text = self._decode(loaded, generated, request.keep_special_tokens)
        return ModelReply(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(generated),
            seconds=time.perf_counter() - started - load_seconds,
            model=self.model_id,
            prepare_seconds=prepare_seconds,
        )

    def close(self) -> None:
        """Free the model (and the CUDA cache); waits for a running generation. Safe to call twice.

        A closed backend refuses further requests with ``ModelUnavailable``: make a new one to reload.
        """
        with self._load_lock, self._generate_lock:
            loaded, self._loaded = self._loaded, None
            self._closed = True
        if loaded is None:
            return
        torch = loaded.torch
        loaded.model = loaded.processor = None
        del loaded
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # --- steps of a request -------------------------------------------------------------------------------

    def _ensure_loaded(self) -> tuple[LoadedModel, float]:
        """The loaded model, and how long this call spent loading it (0 when it already was)."""
        loaded = self._loaded
        if loaded is not None:
            return loaded, 0.0
        with self._load_lock:
            if self._closed:
                raise ModelUnavailable(f"{self!r} is closed; create a new backend to load the model", self.model_id)
            if self._loaded is None:
                self._loaded = load_model(self._options)
                return self._loaded, self._loaded.load_seconds
            return self._loaded, 0.0

    def _ordered_images(self, request: ModelRequest) -> list[tuple[ImageSlot, Any]]:
        """The request's images in slot order; a request that is wrong in itself is refused here."""
        if not request.messages:
            raise ModelRequestError("the request has no messages", self.model_id)
        if request.max_new_tokens <= 0:
            raise ModelRequestError(f"max_new_tokens must be positive, got {request.max_new_tokens}", self.model_id)
        try:
            return request.ordered_images()
        except ValueError as exc:
            raise ModelRequestError(str(exc), self.model_id) from exc

    def _check_slots(self, ordered: list[tuple[ImageSlot, Any]], factor: int) -> None:
        """Refuse any image the processor would not leave exactly as it is."""
        low, high = self.pixel_limits
        for slot, _image in ordered:
            self._check_slot(slot, low, high, factor)

    def _check_slot(self, slot: ImageSlot, low: int, high: int, factor: int) -> None:
        if slot.width % factor or slot.height % factor:
            raise ModelRequestError(
                f"image {slot.key!r} is {slot.width}x{slot.height}, not a multiple of {factor} px per side: "
                "send it at the family's smart_resize size (is the family meant for this model?)",
                self.model_id,
            )
        height, width = smart_resize(slot.height, slot.width, factor, low, high)
        if (width, height) != (slot.width, slot.height):
            raise ConfigError(
                f"image {slot.key!r} is {slot.width}x{slot.height}, which the processor would resize to "
                f"{width}x{height} under this backend's pixel limits ({low}, {high}): create the backend with the "
                "family's limits, TransformersBackend(..., min_pixels=family.pixel_limits[0], "
                "max_pixels=family.pixel_limits[1])"
            )

    def _prepare(self, loaded: LoadedModel, request: ModelRequest, images: list[Any]) -> Any:
        processor = loaded.processor
        prompt = processor.apply_chat_template(
            to_hf_messages(request.messages), tokenize=False, add_generation_prompt=True
        )
        try:
            inputs = processor(text=[prompt], images=images or None, return_tensors="pt")
        except (ValueError, TypeError) as exc:
            raise ModelRequestError(f"the processor refused the request: {exc}", self.model_id) from exc
        if images:
            self._check_grids(loaded, request, inputs["image_grid_thw"].tolist())
        return inputs.to(loaded.device)

    def _check_grids(self, loaded: LoadedModel, request: ModelRequest, grids: list[list[int]]) -> None:
        """The processor kept every image at its slot size: grid (1, h/patch, w/patch), patch 14 or 16."""
        patch = int(getattr(loaded.processor.image_processor, "patch_size", 14))
        slots = [slot for message in request.messages for slot in message.images()]
        for slot, grid in zip(slots, grids, strict=True):
            expected = [1, slot.height // patch, slot.width // patch]
            if list(grid) != expected:
                seen = f"{grid[2] * patch}x{grid[1] * patch}"
                limits = pixel_limits_of(loaded.processor.image_processor)
                raise ConfigError(
                    f"the processor resized image {slot.key!r} from {slot.width}x{slot.height} to {seen} (its pixel "
                    f"limits are {limits}, the backend's {self.pixel_limits}); the model's coordinates would not "
                    "match the prompt's screen size"
                )

    def _generate(self, loaded: LoadedModel, inputs: Any, request: ModelRequest, prompt_tokens: int) -> Any:
        torch = loaded.torch
        # Keyword arguments, not a GenerationConfig: transformers 4.x merges a passed config with the
        # checkpoint's and would turn do_sample=False (the library default) back into the checkpoint's True.
        options: dict[str, Any] = {"max_new_tokens": request.max_new_tokens}
        if request.temperature > 0:
            options.update(do_sample=True, temperature=request.temperature)
        else:  # greedy; the checkpoint's sampling knobs would only draw "flags ignored" warnings
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        try:
            with torch.inference_mode():
                return loaded.model.generate(**inputs, **options)
        except Exception as exc:
            if is_out_of_memory(torch, exc):
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                raise ModelUnavailable(
                    f"{self.model_id} ran out of memory on a prompt of {prompt_tokens} tokens: lower max_pixels (the "
                    "family's and the backend's together), send fewer history images, or lower max_new_tokens",
                    self.model_id,
                ) from exc
            raise ModelError(f"generation failed: {type(exc).__name__}: {exc}", self.model_id) from exc

    @staticmethod
    def _decode(loaded: LoadedModel, generated: list[int], keep_special_tokens: bool) -> str:
        """The reply text; the stop token that ended it (``<|im_end|>``) is not part of the reply."""
        end = len(generated)
        while end and generated[end - 1] in loaded.stop_ids:
            end -= 1
        return str(
            loaded.processor.tokenizer.decode(
                generated[:end], skip_special_tokens=not keep_special_tokens, clean_up_tokenization_spaces=False
            )
        )


def _factor_of(loaded: LoadedModel) -> int:
    """Pixels per merged vision token side, as the loaded image processor computes it (patch × merge)."""
    image_processor = loaded.processor.image_processor
    return int(getattr(image_processor, "patch_size", 14)) * int(getattr(image_processor, "merge_size", 2))

"""Loading a Qwen2-VL-style model and its processor with transformers, and the choices made on the way.

Kept apart from ``local.py`` because every choice here depends on the machine and the transformers version
(CUDA or not, flash-attn installed or not, ``dtype=`` in transformers 5 vs ``torch_dtype=`` in 4.x, the image
processor's ``size`` dict vs its ``min_pixels`` attributes), while the backend itself only generates.
torch and transformers are imported inside these functions, never when the module is imported.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guiagent.actions.errors import ConfigError, ModelUnavailable

__all__ = [
    "DTYPES",
    "INSTALL_HINT",
    "LoadedModel",
    "LoadOptions",
    "is_out_of_memory",
    "load_model",
    "pixel_limits_of",
    "set_pixel_limits",
]

INSTALL_HINT = "pip install 'guiagent[local]'"
DTYPES = {
    "auto": "auto",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
}
"""Accepted ``dtype`` spellings and the torch dtype each names ("auto": bf16 on CUDA, float32 elsewhere)."""

_MODEL_CLASSES = {
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
}


@dataclass(frozen=True)
class LoadOptions:
    """What the user asked for; ``load_model`` turns it into concrete choices for this machine."""

    model: str
    min_pixels: int
    max_pixels: int
    device_map: str | dict[str, Any] | None = "auto"
    dtype: str = "auto"
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    local_files_only: bool = False


@dataclass
class LoadedModel:
    """A model and processor ready to generate, with the choices that were made.

    Args:
        model: the transformers model, in eval mode.
        processor: its ``AutoProcessor``, pixel limits set to the backend's.
        torch: the torch module (so callers need not import it).
        device: where inputs go (``model.device``).
        dtype: the torch dtype name the weights were loaded in.
        attn_implementation: the attention kernel asked for.
        stop_ids: token ids that end a reply (eos and pad), stripped from the end of replies.
        load_seconds: wall time of loading.
    """

    model: Any
    processor: Any
    torch: Any
    device: str
    dtype: str
    attn_implementation: str
    stop_ids: frozenset[int]
    load_seconds: float


def load_model(options: LoadOptions) -> LoadedModel:
    """Load config, weights and processor once; every failure becomes a ``ConfigError`` saying what to do.

    Raises:
        ConfigError: torch/transformers missing, the model cannot be found or loaded, a bad option.
        ModelUnavailable: the weights do not fit in memory.
    """
    started = time.perf_counter()
    torch, transformers = _import_stack()
    source = _resolve_source(options.model)
    config = _load_config(transformers, source, options)
    cuda = _uses_cuda(torch, options.device_map)
    dtype = _resolve_dtype(torch, options.dtype, cuda)
    attn = options.attn_implementation or _default_attention(cuda)
    device_map = _resolve_device_map(options.device_map, cuda)
    model_class = _model_class(transformers, config)
    dtype_kw = "dtype" if _version(transformers.__version__) >= (4, 56) else "torch_dtype"  # renamed in 4.56
    kwargs: dict[str, Any] = {
        "config": config,
        dtype_kw: getattr(torch, dtype),
        "attn_implementation": attn,
        "trust_remote_code": options.trust_remote_code,
        "local_files_only": options.local_files_only,
    }
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        model = model_class.from_pretrained(source, **kwargs)
    except ImportError as exc:  # e.g. flash_attn asked for and missing, or accelerate for device_map
        raise ConfigError(f"cannot load model {options.model!r}: {exc}") from exc
    except Exception as exc:
        if is_out_of_memory(torch, exc):
            raise ModelUnavailable(
                f"model {options.model!r} does not fit in memory ({dtype}): {exc}. Use a smaller model, "
                "dtype='bfloat16', or device_map='auto' to spread it over several GPUs and the CPU",
                options.model,
            ) from exc
        raise ConfigError(_cannot_load(options.model, source, exc)) from exc
    model.eval()
    processor = _load_processor(transformers, source, options)
    stop_ids = _stop_ids(model, processor)
    return LoadedModel(
        model=model,
        processor=processor,
        torch=torch,
        device=str(model.device),
        dtype=dtype,
        attn_implementation=attn,
        stop_ids=stop_ids,
        load_seconds=time.perf_counter() - started,
    )


def set_pixel_limits(image_processor: Any, min_pixels: int, max_pixels: int) -> None:
    """Make the image processor's smart_resize limits ``(min_pixels, max_pixels)``, in either config style.

    transformers 5 keeps them in ``size = {"shortest_edge": min, "longest_edge": max}`` (a ``SizeDict``);
    4.x also keeps ``min_pixels``/``max_pixels`` attributes (and some releases ``size["min_pixels"]``).
    Every place that exists is set, so whichever the installed version reads agrees with the family.
    """
    size = getattr(image_processor, "size", None)
    if dataclasses.is_dataclass(size) and not isinstance(size, type):
        image_processor.size = dataclasses.replace(size, shortest_edge=min_pixels, longest_edge=max_pixels)
    else:
        new = dict(size) if isinstance(size, Mapping) else {}
        new.update(shortest_edge=min_pixels, longest_edge=max_pixels)
        if "min_pixels" in new or "max_pixels" in new:
            new.update(min_pixels=min_pixels, max_pixels=max_pixels)
        image_processor.size = new
    for name, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels)):
        if getattr(image_processor, name, None) is not None:  # 4.x attributes; None in 5.x (deprecated there)
            setattr(image_processor, name, value)


def pixel_limits_of(image_processor: Any) -> tuple[int, int] | None:
    """The ``(min_pixels, max_pixels)`` the image processor will apply, if it says."""
    size = getattr(image_processor, "size", None)
    try:
        low, high = size["shortest_edge"], size["longest_edge"]  # type: ignore[index]
    except (KeyError, TypeError):
        low, high = getattr(image_processor, "min_pixels", None), getattr(image_processor, "max_pixels", None)
    return (int(low), int(high)) if low is not None and high is not None else None


# --- the steps ------------------------------------------------------------------------------------------


def _import_stack() -> tuple[Any, Any]:
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise ConfigError(
            f"the local backend needs torch, torchvision and transformers ({exc}); install them with {INSTALL_HINT}"
        ) from exc
    return torch, transformers


def _resolve_source(model: str) -> str:
    """A local folder as an absolute path, a hub id as given; a path-like name that does not exist fails."""
    path = Path(os.path.expanduser(model))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"model folder {str(path)!r} has no config.json: point the backend at the folder that holds "
                "config.json, the *.safetensors weights and the tokenizer/processor files"
            )
        return str(path.resolve())
    looks_like_path = (
        path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1 or "\\" in model or path.exists()
    )
    if looks_like_path:
        raise ConfigError(
            f"no model folder at {model!r}: give the path of a downloaded model (the folder holding config.json), "
            f"or a hub id such as 'Qwen/Qwen2.5-VL-7B-Instruct'; download one with `huggingface-cli download "
            f"Qwen/Qwen2.5-VL-7B-Instruct --local-dir ./Qwen2.5-VL-7B-Instruct`"
        )
    return model


def _load_config(transformers: Any, source: str, options: LoadOptions) -> Any:
    try:
        return transformers.AutoConfig.from_pretrained(
            source, trust_remote_code=options.trust_remote_code, local_files_only=options.local_files_only
        )
    except Exception as exc:  # OSError (not found, offline), ValueError (unknown model type), hub errors
        raise ConfigError(_cannot_load(options.model, source, exc)) from exc


def _cannot_load(model: str, source: str, exc: BaseException) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if Path(source).is_dir():
        return f"cannot load the model in {source!r}: {reason}"
    return (
        f"cannot load model {model!r}: {reason}. Without internet access, give a local folder instead, or "
        f"download it once with `huggingface-cli download {model}` (or `hf download {model}`) and set "
        "HF_HUB_OFFLINE=1 so transformers uses the cached copy without asking the hub"
    )


def _uses_cuda(torch: Any, device_map: str | dict[str, Any] | None) -> bool:
    if not torch.cuda.is_available():
        return False
    if device_map is None or device_map == "cpu":
        return False
    if isinstance(device_map, Mapping):
        return any(str(v) not in ("cpu", "disk") for v in device_map.values())
    return True


def _resolve_dtype(torch: Any, dtype: str, cuda: bool) -> str:
    name = DTYPES[dtype]
    if name != "auto":
        return name
    if cuda:
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "float32"  # bf16 matmuls on CPU are slow or unsupported; the models run fine in float32


def _default_attention(cuda: bool) -> str:
    if cuda and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def _resolve_device_map(device_map: str | dict[str, Any] | None, cuda: bool) -> str | dict[str, Any] | None:
    """With CUDA, "auto" spreads the model over the GPUs (accelerate); without, it would only add a meta round trip."""
    if device_map == "auto" and not cuda:
        return None
    return device_map


def _model_class(transformers: Any, config: Any) -> Any:
    name = _MODEL_CLASSES.get(getattr(config, "model_type", ""), "AutoModelForImageTextToText")
    model_class = getattr(transformers, name, None)
    if model_class is None:  # an old transformers without the class (Qwen2.5-VL came in 4.49)
        raise ConfigError(
            f"transformers {transformers.__version__} has no {name} for model type {config.model_type!r}; "
            f"upgrade with {INSTALL_HINT} --upgrade"
        )
    return model_class


def _load_processor(transformers: Any, source: str, options: LoadOptions) -> Any:
    kwargs: dict[str, Any] = {
        "trust_remote_code": options.trust_remote_code,
        "local_files_only": options.local_files_only,
    }
    if _version(transformers.__version__) < (5, 0):
        kwargs["use_fast"] = True  # 4.x's default for Qwen2-VL anyway; saying so silences its warning
    try:
        processor = transformers.AutoProcessor.from_pretrained(source, **kwargs)
    except Exception as exc:
        message = _cannot_load(options.model, source, exc)
        if "torchvision" in str(exc):
            message += f"; torch and torchvision must be builds that match each other ({INSTALL_HINT})"
        raise ConfigError(message) from exc
    image_processor = getattr(processor, "image_processor", None)
    if image_processor is None or not hasattr(processor, "apply_chat_template"):
        raise ConfigError(
            f"model {options.model!r} has no image processor or chat template: the local backend needs a "
            "vision-language checkpoint such as Qwen/Qwen2.5-VL-7B-Instruct"
        )
    set_pixel_limits(image_processor, options.min_pixels, options.max_pixels)
    return processor


def _stop_ids(model: Any, processor: Any) -> frozenset[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), getattr(processor, "tokenizer", None)):
        for name in ("eos_token_id", "pad_token_id"):
            value = getattr(source, name, None)
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(int(v) for v in value)
    return frozenset(ids)


def is_out_of_memory(torch: Any, exc: BaseException) -> bool:
    """Whether ``exc`` is a CUDA (or CPU allocator) out-of-memory failure."""
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def _version(version: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string such as ``4.57.6`` or ``5.0.0rc1``."""
    parts = (version.split(".") + ["0"])[:2]
    digits = ["".join(c for c in part[:3] if c.isdigit()) or "0" for part in parts]
    return int(digits[0]), int(digits[1])

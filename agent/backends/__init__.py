"""Model backends: in-process transformers and any OpenAI-compatible endpoint.

Both import their heavy dependencies (torch, transformers; httpx) only when used.
"""

from .base import ModelBackend, ModelReply, ModelRequest

__all__ = [
    "FailoverBackend",
    "ModelBackend",
    "ModelReply",
    "ModelRequest",
    "OpenAICompatibleBackend",
    "TransformersBackend",
]

_LAZY = {"FailoverBackend": ".failover", "OpenAICompatibleBackend": ".openai_compat", "TransformersBackend": ".local"}


def __getattr__(name: str) -> object:
    """Load a backend module on first use."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

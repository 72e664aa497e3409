"""Several OpenAI-compatible endpoints serving one model: episodes stick to one, and move when it dies.

Why client-side: vLLM's own ``--data-parallel-size`` balances inside one endpoint, and a router or gateway
balances across hosts, but a user with two or three plain vLLM servers has neither, and a gateway is one
more thing that can die. ``--base-url URL1,URL2`` gives each *episode* one URL (round robin over the URLs
that are up when it starts) and keeps it there while that URL answers: every step of an episode repeats the
previous steps' prompt, so staying on one server keeps its prefix cache hitting.

When a URL fails a request (after its own short retries: connection refused, timeouts, 5xx), it is taken
out for a backoff that doubles on each failure after it came back (``backoff`` up to ``backoff_max``), the
episode moves to the next URL that is up and the request is sent there at once, so no episode fails
because one replica died. When every URL is out, the request waits for the first to come back, up to
``give_up_after`` seconds, and only then raises ``ModelUnavailable``.

Hot path: a step reads the episode's pinned endpoint and its ``down_until`` (plain attribute reads); the
small per-endpoint lock is taken only when a request fails. Endpoints share one httpx client each, so
connections are pooled per server across all episodes.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from guiagent.actions.errors import ConfigError, ModelUnavailable

from .base import ModelBackend, ModelReply, ModelRequest

__all__ = ["Endpoint", "EpisodeBackend", "FailoverBackend", "split_base_urls"]


def split_base_urls(text: str | Sequence[str]) -> list[str]:
    """``"http://a/v1,http://b/v1"`` (or a list) → the URLs, stripped, duplicates dropped, order kept."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    urls = [p.strip().rstrip("/") for p in parts if p and p.strip()]
    return list(dict.fromkeys(urls))


@dataclass
class Endpoint:
    """One base URL, its backend, and whether it is out (``down_until`` in ``time.monotonic`` seconds)."""

    url: str
    backend: ModelBackend
    down_until: float = 0.0
    failures: int = 0
    last_error: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def up(self, now: float) -> bool:
        """Whether new requests may go here."""
        return self.down_until <= now

    def failed(self, error: str, backoff: float, backoff_max: float) -> float:
        """Take this endpoint out after a failed request; returns for how many seconds.

        Episodes failing at the same moment count once: only a failure while it was up doubles the backoff.
        """
        now = time.monotonic()
        with self._lock:
            self.last_error = error
            if self.down_until > now:
                return self.down_until - now
            self.failures += 1
            seconds = min(backoff * 2 ** (self.failures - 1), backoff_max)
            self.down_until = now + seconds
            return seconds

    def succeeded(self) -> None:
        """A request worked: the next failure starts the backoff from the beginning."""
        if self.failures:
            with self._lock:
                self.failures = 0


class FailoverBackend(ModelBackend):
    """A list of endpoints for one model, with episode affinity and failover.

    Args:
        model: the model name every endpoint serves.
        base_urls: the endpoints (``http://host:8000/v1``), at least one.
        api_key: sent to every endpoint (defaults to ``OPENAI_API_KEY``).
        attempts_per_url: attempts on one URL before moving on (its backend's ``max_attempts``).
        backoff: seconds a failed URL stays out the first time; doubles per further failure.
        backoff_max: the longest a URL stays out.
        give_up_after: seconds one request may spend waiting for any URL before ``ModelUnavailable``.
        make_backend: ``(url) -> ModelBackend``, to build each endpoint's backend (tests; other clients).
        **options: further ``OpenAICompatibleBackend`` arguments (``timeout``, ``retry_wait``,
            ``image_format``, ``extra_body``).
    """

    def __init__(
        self,
        model: str,
        base_urls: Sequence[str] | str,
        api_key: str | None = None,
        *,
        attempts_per_url: int = 2,
        backoff: float = 2.0,
        backoff_max: float = 60.0,
        give_up_after: float = 300.0,
        make_backend: Callable[[str], ModelBackend] | None = None,
        **options: Any,
    ) -> None:
        urls = split_base_urls(base_urls)
        if not urls:
            raise ConfigError("give at least one base URL (--base-url URL1,URL2)")
        if backoff <= 0 or backoff_max < backoff or give_up_after <= 0:
            raise ConfigError("backoff must be > 0, backoff_max >= backoff and give_up_after > 0")
        if make_backend is None:
            from .openai_compat import OpenAICompatibleBackend

            def make_backend(url: str) -> ModelBackend:
                return OpenAICompatibleBackend(model, url, api_key, max_attempts=attempts_per_url, **options)

        self.model_id = model
        self.endpoints = [Endpoint(url, make_backend(url)) for url in urls]
        self.base_urls = urls
        self.timeout = float(options.get("timeout", 120.0))
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.give_up_after = give_up_after
        self.events: list[dict[str, Any]] = []
        """Every failover, in order: ``{"time", "url", "episode", "error", "out_for", "moved_to"}``
        (``list.append`` is atomic; nothing else writes here)."""
        self._next = itertools.count()
        self._local = threading.local()

    def episode(self, key: str) -> EpisodeBackend:
        """A backend for one episode: every request goes to one URL while that URL is up."""
        return EpisodeBackend(self, key)

    def complete(self, request: ModelRequest) -> ModelReply:
        """Without an explicit episode, each thread is one: its requests stay on one URL."""
        episode = getattr(self._local, "episode", None)
        if episode is None:
            episode = self._local.episode = EpisodeBackend(self, threading.current_thread().name)
        return episode.complete(request)

    def pick(self, exclude: Endpoint | None = None) -> Endpoint | None:
        """An endpoint that is up, round robin (None when every one is out)."""
        now = time.monotonic()
        ready = [e for e in self.endpoints if e.up(now) and e is not exclude]
        return ready[next(self._next) % len(ready)] if ready else None

    def mark_down(self, urls: Sequence[str], reason: str) -> None:
        """Take URLs out before any request (an up-front probe found them unreachable)."""
        for endpoint in self.endpoints:
            if endpoint.url in urls:
                endpoint.failed(reason, self.backoff, self.backoff_max)

    def status(self) -> list[dict[str, Any]]:
        """Each URL: up or out (for how long), consecutive failures, last error."""
        now = time.monotonic()
        return [
            {
                "url": e.url,
                "up": e.up(now),
                "out_for": round(max(0.0, e.down_until - now), 1),
                "failures": e.failures,
                "last_error": e.last_error,
            }
            for e in self.endpoints
        ]

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.backend.close()


class EpisodeBackend(ModelBackend):
    """One episode's view of a ``FailoverBackend``: pinned to one URL until that URL fails.

    ``urls`` lists the URLs this episode used, in order (one entry unless it failed over).
    """

    def __init__(self, parent: FailoverBackend, key: str) -> None:
        self.parent = parent
        self.key = key
        self.model_id = parent.model_id
        self.pinned: Endpoint | None = None
        self.urls: list[str] = []

    @property
    def base_url(self) -> str | None:
        """The URL this episode is on now (None before its first request)."""
        return self.pinned.url if self.pinned else None

    def complete(self, request: ModelRequest) -> ModelReply:
        deadline = time.monotonic() + self.parent.give_up_after
        errors: list[str] = []
        while True:
            endpoint = self._endpoint(deadline)
            if endpoint is None:
                raise ModelUnavailable(
                    f"no endpoint answered within {self.parent.give_up_after:g} s: " + "; ".join(errors[-4:]),
                    self.model_id,
                )
            try:
                reply = endpoint.backend.complete(request)
            except ModelUnavailable as exc:
                errors.append(f"{endpoint.url}: {exc}")
                self._fail_over(endpoint, str(exc))
                continue
            endpoint.succeeded()
            return reply

    def _endpoint(self, deadline: float) -> Endpoint | None:
        pinned = self.pinned
        if pinned is not None and pinned.up(time.monotonic()):
            return pinned
        while True:
            chosen = self.parent.pick()
            if chosen is not None:
                if pinned is not None:  # another episode's failure took our URL out: say we moved
                    self._event(pinned, f"out since another episode's request failed: {pinned.last_error}", chosen)
                    pinned = None
                self._pin(chosen)
                return chosen
            soonest = min(e.down_until for e in self.parent.endpoints)
            now = time.monotonic()
            if soonest >= deadline:
                return None
            time.sleep(max(0.0, soonest - now) + 0.01)  # every URL is out: wait for the first to come back

    def _pin(self, endpoint: Endpoint) -> None:
        self.pinned = endpoint
        if not self.urls or self.urls[-1] != endpoint.url:
            self.urls.append(endpoint.url)

    def _fail_over(self, endpoint: Endpoint, error: str) -> None:
        out_for = endpoint.failed(error, self.parent.backoff, self.parent.backoff_max)
        self.pinned = None
        following = self.parent.pick(exclude=endpoint)
        if following is not None:
            self._pin(following)
        self._event(endpoint, error, following, out_for)

    def _event(self, endpoint: Endpoint, error: str, following: Endpoint | None, out_for: float | None = None) -> None:
        if out_for is None:
            out_for = max(0.0, endpoint.down_until - time.monotonic())
        self.parent.events.append(
            {
                "time": time.time(),
                "url": endpoint.url,
                "episode": self.key,
                "error": error[:300],
                "out_for": round(out_for, 2),
                "moved_to": following.url if following else None,
            }
        )

    def close(self) -> None:
        """Nothing to release: connections belong to the shared backend."""

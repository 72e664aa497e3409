"""A pool of devices handed out one task at a time: healthy before each lease, reset after, quarantined on failure.

Why leases and not one thread per device string (``run_suite``): with twenty phones, some will be asleep,
some will drop off mid-suite, and one task must not take a device down with it. A lease is the only way a
task gets a device; the pool checks the device (``check_health``) right before handing it out and resets it
(``reset_device``) right after. A device that fails its check, or dies mid-task, is *quarantined*: closed,
never leased again in this suite, and listed with the reason. One whose reset fails is *dirty*: it still
answers but its state is unknown, so it too is left out and listed.

Concurrency: one condition variable guards the device states; it is taken to pick a device and to return
one, never while a device is opened, checked or driven, so episodes never wait on each other's devices.
``close()`` (also on Ctrl-C) releases every lease and closes every device, which puts back input methods and
stops embedded virtual phones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from .device_health import Health, check_health, reset_device
from .pool_file import DeviceSpec, PoolConfig

__all__ = ["DevicePool", "DeviceSlot", "Lease", "SlotState"]

SlotState = Literal["idle", "leased", "dirty", "quarantined", "closed"]
Opener = Callable[[DeviceSpec], Any]


@dataclass
class DeviceSlot:
    """One device of the pool and what the pool knows of it."""

    spec: DeviceSpec
    state: SlotState = "idle"
    reason: str = ""
    env: Any = None
    tasks: int = 0
    checks: int = 0
    last_health: Health | None = None

    def summary(self) -> dict[str, Any]:
        """This device as a row of ``results.json``'s ``devices`` section."""
        health = self.last_health
        return {
            "name": self.spec.name,
            "kind": self.spec.kind,
            "state": "healthy" if self.state in ("idle", "leased", "closed") else self.state,
            "reason": self.reason,
            "tasks": self.tasks,
            "health_checks": self.checks,
            "screen": f"{health.width}x{health.height}" if health and health.width else "",
        }


class Lease:
    """A device held for one task; give it back with ``pool.release`` (or use ``with``)."""

    def __init__(self, pool: DevicePool, slot: DeviceSlot) -> None:
        self.pool = pool
        self.slot = slot
        self.env = slot.env
        self.name = slot.spec.name
        self.released = False

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if not self.released:
            self.pool.release(self, reset=kind is None)


class DevicePool:
    """Devices from a pool file, leased one task at a time.

    Args:
        config: the parsed pool file.
        opener: opens a device (``DeviceSpec.open`` by default; tests may wrap it).
        health: checks a device (``check_health`` by default).
    """

    def __init__(
        self,
        config: PoolConfig,
        opener: Opener | None = None,
        health: Callable[[Any], Health] = check_health,
    ) -> None:
        self.config = config
        self.slots = [DeviceSlot(spec) for spec in config.devices]
        self._open = opener or (lambda spec: spec.open(config.retry_window))
        self._health = health
        self._changed = threading.Condition()
        self.stopping = threading.Event()

    def kinds(self) -> set[str]:
        """The task kinds (``android``, ``desktop``) this pool can serve at all."""
        return {s.spec.task_kind for s in self.slots}

    def open_all(self) -> list[str]:
        """Open every idle device now instead of at its first lease; returns the names that failed (those are
        quarantined with the reason). For fail-fast starts and for benchmarks that must not time device setup."""
        failed = []
        for slot in self.slots:
            if slot.env is None and slot.state == "idle":
                try:
                    slot.env = self._open(slot.spec)
                except Exception as exc:  # noqa: BLE001 - as in lease: the reason goes into the report
                    self._set(slot, "quarantined", f"could not open: {type(exc).__name__}: {exc}")
                    failed.append(slot.spec.name)
        return failed

    def lease(self, kind: str, exclude: Iterable[str] = (), timeout: float | None = None) -> Lease | None:
        """A healthy device for a task of ``kind``, waiting while all such devices are busy.

        Args:
            kind: ``android`` or ``desktop`` (the task's ``device``).
            exclude: device names not to use (the one a retried task failed on).
            timeout: seconds to wait at most (None: as long as some device may still come free).

        Returns:
            The lease, or None when no device of that kind can serve any more (all quarantined, dirty or
            excluded), the wait timed out, or the pool is stopping.
        """
        skip = set(exclude)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            slot = self._take(kind, skip, deadline)
            if slot is None:
                return None
            if slot.env is None:
                try:
                    slot.env = self._open(slot.spec)
                except Exception as exc:  # noqa: BLE001 - whatever stops a device opening keeps it out, with why
                    self._set(slot, "quarantined", f"could not open: {type(exc).__name__}: {exc}")
                    continue
            health = self._health(slot.env)
            slot.checks += 1
            slot.last_health = health
            if health.ok and not self.stopping.is_set():
                return Lease(self, slot)
            if health.ok:
                self._set(slot, "idle", "")
                return None
            self.quarantine(slot, f"failed its health check: {health.reason}")

    def _take(self, kind: str, skip: set[str], deadline: float | None) -> DeviceSlot | None:
        with self._changed:
            while not self.stopping.is_set():
                usable = [s for s in self.slots if s.spec.task_kind == kind and s.spec.name not in skip]
                idle = [s for s in usable if s.state == "idle"]
                if idle:
                    slot = min(idle, key=lambda s: s.tasks)  # spread tasks over devices
                    slot.state = "leased"
                    return slot
                if not any(s.state == "leased" for s in usable):
                    return None  # nothing of this kind will ever come free
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    return None
                self._changed.wait(min(wait, 0.5) if wait is not None else 0.5)
            return None

    def check(self, lease: Lease) -> Health:
        """Check a leased device now (after a task that ended in error: did the device fail under it?)."""
        health = self._health(lease.env)
        lease.slot.checks += 1
        lease.slot.last_health = health
        return health

    def release(self, lease: Lease, *, reset: bool = True) -> DeviceSlot:
        """Give a device back after its task: reset it (or mark it dirty) and let the next task have it."""
        if lease.released:
            return lease.slot
        lease.released = True
        slot = lease.slot
        slot.tasks += 1
        if slot.state != "leased":
            return slot  # quarantined while leased
        problem = reset_device(slot.env, self.config.reset) if reset and not self.stopping.is_set() else ""
        self._set(slot, "dirty" if problem else "idle", problem)
        return slot

    def quarantine(self, slot: DeviceSlot | Lease, reason: str) -> None:
        """Take a device out for the rest of the suite and close it; ``reason`` goes into the report."""
        target = slot.slot if isinstance(slot, Lease) else slot
        if isinstance(slot, Lease):
            slot.released = True
            target.tasks += 1
        env, target.env = target.env, None
        self._set(target, "quarantined", reason)
        _close_quietly(env)

    def _set(self, slot: DeviceSlot, state: SlotState, reason: str) -> None:
        with self._changed:
            slot.state = state
            slot.reason = reason
            self._changed.notify_all()

    def summary(self) -> list[dict[str, Any]]:
        """Every device's state, for ``results.json`` and the report."""
        return [s.summary() for s in self.slots]

    def stop(self) -> None:
        """No new leases from now on (Ctrl-C): waiting ``lease`` calls return None."""
        self.stopping.set()
        with self._changed:
            self._changed.notify_all()

    def close(self) -> None:
        """Release every lease and close every device; safe to call twice."""
        self.stop()
        for slot in self.slots:
            env, slot.env = slot.env, None
            if slot.state in ("idle", "leased"):
                self._set(slot, "closed", slot.reason)
            _close_quietly(env)

    def __enter__(self) -> DevicePool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _close_quietly(env: Any) -> None:
    if env is None:
        return
    try:
        env.close()
    except Exception:  # noqa: BLE001 - a dead device may fail to close; it is out of the pool either way
        pass

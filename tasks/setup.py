"""Bringing a device to a task's starting state, from the steps its task file declares.

A task file is code its author trusts, like a Makefile (see ``tasks/spec.py``): a ``start`` step runs the
argv it names. What this module guarantees is cleanup, not confinement: every program a setup started is
stopped again — after the task, when a later setup step fails (in reverse order, then the error is
raised), and when a suite is interrupted (``stop_started_programs``), so no run leaves an app behind.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from guiagent.actions.errors import DeviceError, UnsupportedAction
from guiagent.envs.base import Env

from .spec import ActionSetup, ClearAppSetup, SettingsSetup, SetupStep, StartSetup, WaitSetup

__all__ = ["apply_setup", "stop_programs", "stop_started_programs"]

STOP_WAIT = 5.0
"""Seconds a program gets to exit after SIGTERM before it is killed."""

_running: list[subprocess.Popen[bytes]] = []
"""Every program a setup started and nobody stopped yet, in start order (for ``stop_started_programs``)."""
_running_lock = threading.Lock()


def apply_setup(env: Env, steps: Sequence[SetupStep]) -> list[subprocess.Popen[bytes]]:
    """Perform each setup step in order, then wait for the screen to settle.

    When a step fails, the programs earlier steps started are stopped (last started first) before the
    error propagates: a failed setup leaves nothing running.

    Returns:
        The programs started (``start`` steps); stop them with ``stop_programs`` after the task.

    Raises:
        UnsupportedAction: a step needs Android (settings, clear_app) and the device is not.
        DeviceError: the device refused a step, or a program could not start.
    """
    started: list[subprocess.Popen[bytes]] = []
    try:
        for step in steps:
            if isinstance(step, StartSetup):
                started.append(_start(env, step))
            elif isinstance(step, ActionSetup):
                env.execute(step.action)
            elif isinstance(step, SettingsSetup):
                put = getattr(env, "put_setting", None)
                if put is None:
                    raise UnsupportedAction("settings presets need an Android device", env.name, "settings")
                put(step.settings.namespace, step.settings.key, step.settings.value)
            elif isinstance(step, ClearAppSetup):
                clear = getattr(env, "clear_app", None)
                if clear is None:
                    raise UnsupportedAction("clear_app needs an Android device", env.name, "clear_app")
                clear(step.clear_app)
            elif isinstance(step, WaitSetup):
                time.sleep(step.wait)
        if steps:
            env.settle(max_wait=2.0)
    except BaseException:  # Ctrl-C and bugs included: what this setup started must not outlive it
        stop_programs(started)
        raise
    return started


def _start(env: Env, step: StartSetup) -> subprocess.Popen[bytes]:
    argv = [sys.executable if a == "{python}" else a for a in step.start]
    with _running_lock:  # registered under the lock, so an interrupted suite cannot miss it
        try:
            program = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as exc:
            raise DeviceError(f"could not start {argv[0]}: {exc}", env.name) from None
        _running.append(program)
    return program


def stop_programs(programs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Stop what ``apply_setup`` started, last started first: SIGTERM, then SIGKILL after ``STOP_WAIT`` s.

    One at a time, because a program started later may depend on an earlier one (a client on its server).
    Safe to repeat, and on programs that already exited.
    """
    for program in reversed(programs):
        if program.poll() is None:
            program.terminate()
            try:
                program.wait(STOP_WAIT)
            except subprocess.TimeoutExpired:
                program.kill()
                program.wait()
        with _running_lock:
            if program in _running:
                _running.remove(program)


def stop_started_programs() -> None:
    """Stop every program any setup in this process started and nobody stopped yet (a suite interrupted
    mid-task: the worker that owns them may never get to it)."""
    with _running_lock:
        programs = list(_running)
    stop_programs(programs)

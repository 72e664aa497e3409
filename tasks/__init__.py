"""Tasks: task files and success checks, suites, device pools and Ray, verified replay, HTML reports, grounding."""

from __future__ import annotations

from .checks import CheckContext, CheckResult
from .pool import DevicePool
from .pool_file import load_pool
from .pool_runner import run_pool_suite
from .ray_suite import run_suite_on_ray
from .replay import Regrounder, ReplayConfig, replay
from .runner import SuiteRun, TaskResult, run_suite, run_task
from .spec import TaskSpec, load_task
from .suite import Suite, builtin_suites, load_suite

__all__ = [
    "CheckContext",
    "CheckResult",
    "DevicePool",
    "Regrounder",
    "ReplayConfig",
    "Suite",
    "SuiteRun",
    "TaskResult",
    "TaskSpec",
    "builtin_suites",
    "load_pool",
    "load_suite",
    "load_task",
    "replay",
    "run_pool_suite",
    "run_suite",
    "run_suite_on_ray",
    "run_task",
]

"""Scripts: steps written in words, grounded by the model once, then run from a verified locator cache.

``Session`` is the Python API (``with Session(env, model, family, cache=...) as s: s.tap("Save")``),
``load_script``/``run_flow`` the YAML one (``guiagent script run FLOW.yaml``), ``script_from_run`` turns a
successful agent run into a script and its cache (``guiagent script from-run``). The cache and when it
refuses are described in ``cache.py`` and ``locate.py``; the errors in ``errors.py``.
"""

from __future__ import annotations

from .cache import CacheEntry, LocatorCache, NodeRef, Patch, cache_path_for
from .config import SessionConfig, StepResult
from .errors import (
    GroundingFailed,
    LocatorMissing,
    ModelRequired,
    ScriptAssertionError,
    ScriptDeclined,
    ScriptDivergence,
    ScriptError,
    ScriptQueryError,
    ScriptTimeout,
)
from .flow import run_flow
from .from_run import script_from_run
from .session import Session
from .yaml_script import Script, load_script

__all__ = [
    "CacheEntry",
    "GroundingFailed",
    "LocatorCache",
    "LocatorMissing",
    "ModelRequired",
    "NodeRef",
    "Patch",
    "ScriptAssertionError",
    "ScriptDeclined",
    "ScriptDivergence",
    "ScriptError",
    "ScriptQueryError",
    "Script",
    "ScriptTimeout",
    "Session",
    "SessionConfig",
    "StepResult",
    "cache_path_for",
    "load_script",
    "run_flow",
    "script_from_run",
]

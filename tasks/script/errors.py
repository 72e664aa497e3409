"""The errors a script raises, as one branch of guiagent's tree (``guiagent.actions.errors``).

A script is not an agent: there is no model to send a mistake back to, so every error here ends the
script at the step that raised it, after that step is recorded. Nothing reaches the device after it.

::

    GuiAgentError
    ├── ScriptError                  a step could not be done as written          (.step, .what)
    │   ├── ScriptAssertionError     assert_visible found the screen without it  (.screenshot)
    │   │   └── ScriptTimeout        wait_for / scroll_until gave up             (.timeout)
    │   ├── ScriptQueryError         the answer did not validate, even re-asked  (.raw_text, .reason)
    │   ├── GroundingFailed          the model named no usable point             (.raw_text, .reason)
    │   ├── ScriptDeclined           the confirm policy asked, the person said no (.action, .reason)
    │   └── ModelRequired            the step needs a model and the session has none
    └── ReplayDivergence             (guiagent.actions.errors)
        └── ScriptDivergence         a cached locator did not verify, no model to re-ground
            │                        (.step, .difference, .key, .images)
            └── LocatorMissing       no cache entry for the step, no model to ground it

``ScriptDivergence`` is a ``ReplayDivergence`` on purpose: a script replaying its cache is a verified
replay, and callers that already stop on a replay's divergence stop on a script's too. Errors carry
context and do nothing when built (no logging, no I/O), as the rest of the tree.
"""

from __future__ import annotations

from collections.abc import Sequence

from guiagent.actions.errors import GuiAgentError, ReplayDivergence

__all__ = [
    "FAILURES",
    "GroundingFailed",
    "LocatorMissing",
    "ModelRequired",
    "ScriptAssertionError",
    "ScriptDeclined",
    "ScriptDivergence",
    "ScriptError",
    "ScriptQueryError",
    "ScriptTimeout",
]


class ScriptError(GuiAgentError):
    """A script step that could not be done as written.

    Args:
        message: one line for a person: which step, what was expected, what was found.
        step: the step's index in the session (1-based), 0 when not known.
        what: the step's description, as the script wrote it.
    """

    def __init__(self, message: str, step: int = 0, what: str = "") -> None:
        super().__init__(message)
        self.step = step
        self.what = what


class ScriptAssertionError(ScriptError):
    """``assert_visible`` (or a wait) found the screen without what it asserts.

    Args:
        screenshot: the screenshot the verdict was made on (in the run folder), when it was saved.
    """

    def __init__(self, message: str, step: int = 0, what: str = "", screenshot: str | None = None) -> None:
        super().__init__(message, step, what)
        self.screenshot = screenshot


class ScriptTimeout(ScriptAssertionError):
    """``wait_for`` or ``scroll_until`` gave up: what it waited for never showed."""

    def __init__(
        self, message: str, step: int = 0, what: str = "", screenshot: str | None = None, timeout: float = 0.0
    ) -> None:
        super().__init__(message, step, what, screenshot)
        self.timeout = timeout


class ScriptQueryError(ScriptError):
    """The model's answer to a ``query`` did not validate against its schema, even after one re-ask.

    Args:
        raw_text: the last answer, exactly as the model wrote it.
        reason: why it was refused (the validation error, in one line).
    """

    def __init__(self, message: str, step: int = 0, what: str = "", raw_text: str = "", reason: str = "") -> None:
        super().__init__(message, step, what)
        self.raw_text = raw_text
        self.reason = reason


class GroundingFailed(ScriptError):
    """The model's answer named no point on the screen for a description, even after one re-ask."""

    def __init__(self, message: str, step: int = 0, what: str = "", raw_text: str = "", reason: str = "") -> None:
        super().__init__(message, step, what)
        self.raw_text = raw_text
        self.reason = reason


class ScriptDeclined(ScriptError):
    """The confirm policy asked before an action and the person (or nobody) said no."""

    def __init__(self, message: str, step: int = 0, what: str = "", action: str = "", reason: str = "") -> None:
        super().__init__(message, step, what)
        self.action = action
        self.reason = reason


class ModelRequired(ScriptError):
    """The step needs a model (a ``query``, a visual check on a device with no UI hierarchy), and there is none."""


class ScriptDivergence(ReplayDivergence):
    """A cached locator that did not verify on the screen, with no model to ground the step again.

    Nothing was sent to the device for this step, nor will be after it.

    Args:
        message: which step, what the cache expected and what the screen shows, where the images are.
        step: the step's index in the session.
        difference: how different the target's patch is (fraction of its pixels), 1.0 when not compared.
        key: the cache key of the step.
        images: the divergence images written to the run folder (expected, actual, diff).
    """

    def __init__(self, message: str, step: int, difference: float, key: str = "", images: Sequence[str] = ()) -> None:
        super().__init__(message, step, difference)
        self.key = key
        self.images = list(images)


class LocatorMissing(ScriptDivergence):
    """The cache has no entry for the step (a first run, or a new step) and there is no model to ground it."""


FAILURES: tuple[type[Exception], ...] = (ScriptAssertionError, ScriptDeclined, ReplayDivergence, ScriptQueryError)
"""Errors that end a script as ``failure`` (the script's check failed) rather than ``error``."""

"""Every error guiagent raises, in one tree.

Callers catch by branch: an ``ActionError`` is the model's fault and goes back to the model as feedback;
everything else ends the run (with the trajectory written up to that point).

::

    GuiAgentError
    ├── ActionError                  recoverable: the reply is sent back to the model with ``.reason``
    │   ├── ActionParseError         the reply has no valid action       (.raw_text, .reason)
    │   ├── CoordinateError          a point lies outside the model space (.raw_text, .reason, .point)
    │   └── ActionRejected           the device cannot do what was asked (no app by that name, an unknown key)
    ├── ConfigError                  bad family name, flag, pixel limit or task file
    │   ├── ImageSizeError           a screen size smart_resize cannot handle (aspect ratio > 200, zero side)
    │   ├── TaskFileError            a task file that does not validate   (.path, .line, .field)
    │   ├── TrajectoryError          a run folder that does not read back  (.path, .line)
    │   └── UnfinishedRecording      replaying a run that never succeeded  (.path, .status)
    ├── DeviceError                  anything between guiagent and a screen (.device)
    │   ├── DeviceNotFound           no such device, or several and none chosen (.available)
    │   ├── DeviceLost               the device stopped answering within the retry window
    │   ├── UnsupportedAction        the device cannot perform this action type (.action)
    │   ├── InputMethodMissing       non-ASCII text needs an input method the device lacks
    │   ├── DeviceCommandError       the device answered with an error      (.command, .exit_code, .output)
    │   └── CommandInterrupted       an input command cut off after sending: it may have run (.command)
    ├── ModelError                   the model backend failed             (.model)
    │   ├── ModelRequestError        the server rejected the request (4xx): never retried (.status)
    │   ├── ModelUnavailable         timeouts, connection errors, 5xx after all retries
    │   └── ServerResizedImages      the server saw fewer image tokens than were sent (.sent, .seen)
    └── ReplayDivergence             a replayed step met a screen unlike the recorded one (.step, .difference)

Exceptions carry their context as attributes and do nothing when built: no logging, no I/O.
Library errors (``adbutils.AdbError``, ``httpx.HTTPError``) are wrapped at the boundary that owns the library.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ActionError",
    "CommandInterrupted",
    "DeviceCommandError",
    "TrajectoryError",
    "UnfinishedRecording",
    "ActionParseError",
    "ActionRejected",
    "ConfigError",
    "CoordinateError",
    "DeviceError",
    "DeviceLost",
    "DeviceNotFound",
    "GuiAgentError",
    "ImageSizeError",
    "InputMethodMissing",
    "ModelError",
    "ModelRequestError",
    "ModelUnavailable",
    "ReplayDivergence",
    "ServerResizedImages",
    "TaskFileError",
    "UnsupportedAction",
]


class GuiAgentError(Exception):
    """Root of every error guiagent raises on purpose."""


class ActionError(GuiAgentError):
    """A model reply that cannot become a device action; the loop sends ``reason`` back to the model.

    Args:
        reason: one line, written for the model: what was wrong and what form is expected.
        raw_text: the reply exactly as the model produced it.
    """

    def __init__(self, reason: str, raw_text: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw_text = raw_text


class ActionParseError(ActionError):
    """The reply holds no action, or one whose syntax or fields are wrong."""


class CoordinateError(ActionError):
    """A point outside the family's coordinate space (never silently clamped)."""

    def __init__(self, reason: str, raw_text: str = "", point: tuple[float, float] | None = None) -> None:
        super().__init__(reason, raw_text)
        self.point = point


class ActionRejected(ActionError):
    """A well-formed action the device cannot carry out as asked (an app that is not installed)."""


class ConfigError(GuiAgentError):
    """Configuration a person wrote is wrong: a flag, a family name, a pixel limit."""


class ImageSizeError(ConfigError, ValueError):
    """A screen size the Qwen resize rules reject (aspect ratio over 200, a zero side)."""


class TaskFileError(ConfigError):
    """A task file that does not validate; names the file, line and field."""

    def __init__(self, message: str, path: str = "", line: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.field = field


class DeviceError(GuiAgentError):
    """Something went wrong between guiagent and a device."""

    def __init__(self, message: str, device: str = "") -> None:
        super().__init__(message)
        self.device = device


class DeviceNotFound(DeviceError):
    """No device matches, or several do and none was chosen."""

    def __init__(self, message: str, device: str = "", available: Sequence[str] = ()) -> None:
        super().__init__(message, device)
        self.available = list(available)


class DeviceLost(DeviceError):
    """The device stopped answering and did not come back within the retry window."""


class UnsupportedAction(DeviceError):
    """The device has no way to perform this action type."""

    def __init__(self, message: str, device: str = "", action: str = "") -> None:
        super().__init__(message, device)
        self.action = action


class InputMethodMissing(DeviceError):
    """Text the device cannot type without an input method that is not installed."""


class ModelError(GuiAgentError):
    """The model backend failed."""

    def __init__(self, message: str, model: str = "") -> None:
        super().__init__(message)
        self.model = model


class ModelRequestError(ModelError):
    """The server refused the request itself (HTTP 4xx); retrying would not help."""

    def __init__(self, message: str, model: str = "", status: int | None = None) -> None:
        super().__init__(message, model)
        self.status = status


class ModelUnavailable(ModelError):
    """Timeouts, refused connections or 5xx answers that outlasted every retry."""


class ServerResizedImages(ModelError):
    """The server resized the screenshots again: its prompt held fewer image tokens than guiagent sent.

    For a family that answers in pixels of the image it saw, every click would then land off target.
    """

    def __init__(self, message: str, model: str = "", sent: int = 0, seen: int = 0) -> None:
        super().__init__(message, model)
        self.sent = sent
        self.seen = seen


class ReplayDivergence(GuiAgentError):
    """A replayed step found a screen that differs from the recorded one beyond the threshold."""

    def __init__(self, message: str, step: int, difference: float) -> None:
        super().__init__(message)
        self.step = step
        self.difference = difference


class DeviceCommandError(DeviceError):
    """The device answered, with an error: it refused the command, or the command exited non-zero.

    Not a lost device: retrying cannot help. ``command`` is the command as shown (typed text hidden),
    ``exit_code`` its status (None when the service was refused), ``output`` what it printed.
    """

    def __init__(self, message: str, device: str, command: str, exit_code: int | None, output: str) -> None:
        super().__init__(message, device)
        self.command = command
        self.exit_code = exit_code
        self.output = output


class CommandInterrupted(DeviceError):
    """A command that changes the device was cut off after it was sent: it may have run, so it was not
    sent again (a tap must never land twice). ``command`` is the command as shown (typed text hidden)."""

    def __init__(self, message: str, device: str, command: str) -> None:
        super().__init__(message, device)
        self.command = command


class TrajectoryError(ConfigError):
    """A run folder whose files do not read back as a run: names the file and, for ``steps.jsonl``, the line.

    What to do: restore the file, or delete the damaged line (a trimmed run still replays).
    """

    def __init__(self, message: str, path: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


class UnfinishedRecording(ConfigError):
    """A recording that never succeeded (or was a dry run), asked to be replayed as if it had (.status, .path).

    What to do: replay it with ``ReplayConfig(allow_unfinished=True)`` (``--allow-unfinished``) to perform
    only the steps it executed; that replay ends ``unfinished``.
    """

    def __init__(self, message: str, path: str = "", status: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.status = status

"""How a session step sees the device: frames and the UI hierarchy, and how long it waits for either.

There is no settle after an action. The next step's look waits for the action's effect instead: a view
that differs from the one the action was decided on, or ``effect_wait`` seconds, as verified replay
lets its screen check be its settle. A cached step then verifies on that view and acts at once; only if
it does not verify does it wait for a still screen (``Env.settle``) and look again. A model is always
shown a still screen.

The view is a frame, or, in ``SessionConfig.fast`` mode on a device with a hierarchy, the hierarchy
alone: the virtual phone answers a ``uiautomator dump`` in ~15 ms where a changed frame costs ~100 ms
(it is rendered), so a step verified by its UI node then takes no screenshot at all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from guiagent.actions.geometry import Size
from guiagent.envs.base import Observation
from guiagent.envs.hierarchy import UiNode, focused_node
from guiagent.envs.settle import frame_difference, frame_signature

if TYPE_CHECKING:
    from guiagent.envs.base import Env

    from .config import SessionConfig
    from .recorder import StepWork

__all__ = ["Looking"]


@dataclass(frozen=True)
class _Pending:
    """An action was sent: what view it was decided on (a frame's signature, or the hierarchy), and when."""

    kind: str
    signature: Any
    at: float


class Looking:
    """The look phase of ``Session`` (a mixin over the session's ``env`` and ``config``)."""

    env: Env
    config: SessionConfig

    def _init_looking(self) -> None:
        self._frame: tuple[Observation, float] | None = None
        """The latest frame and when it was captured (``time.monotonic``)."""
        self._stable = False
        """The latest frame is of a screen that had stopped changing, and nothing acted since."""
        self._pending: _Pending | None = None
        self._hierarchy: bool | None = None
        """Whether the device has a UI hierarchy; None until it was first asked."""

    # -- frames ----------------------------------------------------------------------------------------

    def _look(self, step: StepWork, how: str = "effect") -> Observation:
        """The screen for this step to decide on; it becomes the step's screenshot.

        ``how``: ``effect`` (the last action's effect has shown), ``stable`` (the screen has stopped
        changing) or ``fresh`` (a new capture, no waiting).
        """
        if self.config.dry_run and self._frame is not None:
            observation = self._frame[0]  # nothing acts in a dry run: the first frame stays the screen
        elif how == "stable":
            observation = self._stable_frame(step)
        elif how == "fresh":
            observation = self._capture(step, "capture")
        else:
            observation = self._after_effect(step)
        geometry = observation.geometry
        step.observation, step.decided = observation, "frame"
        step.record.screen = {"width": geometry.width, "height": geometry.height, "orientation": geometry.orientation}
        return observation

    def _capture(self, step: StepWork | None, stage: str) -> Observation:
        started = time.perf_counter()
        observation = self.env.observe()
        self._frame, self._stable = (observation, time.monotonic()), False
        if step is not None:
            step.add_time(stage, time.perf_counter() - started)
        return observation

    def _after_effect(self, step: StepWork | None) -> Observation:
        """A frame showing the last action's effect (or the recent frame, when nothing acted since)."""
        pending, self._pending = self._pending, None
        if pending is None:
            if self._frame is not None and time.monotonic() - self._frame[1] <= self.config.frame_reuse:
                return self._frame[0]
            return self._capture(step, "capture")
        if pending.kind == "tree" and self.config.settle:  # decided on the hierarchy: wait until it changes
            self._tree_changed(pending, step)
        observation = self._capture(step, "capture")
        started = time.perf_counter()
        while pending.kind == "frame" and self.config.settle:
            if frame_difference(frame_signature(observation), pending.signature) > 0:  # typed text is tiny
                break
            if time.monotonic() - pending.at >= self.config.effect_wait:
                break
            observation = self._capture(None, "settle")
        if step is not None and time.perf_counter() - started > 0.0005:
            step.add_time("settle", time.perf_counter() - started)
        return observation

    def _stable_frame(self, step: StepWork) -> Observation:
        """A frame of a screen that has stopped changing (``Env.settle``), the one a model is shown."""
        if self._stable and self._frame is not None and self._pending is None:
            return self._frame[0]
        if not self.config.settle:
            self._pending = None
            return self._capture(step, "capture")
        waited = self._pending is not None
        self._pending = None
        result = self.env.settle(
            min_wait=self.config.settle_min if waited else 0.0,
            max_wait=self.config.settle_max,
            tolerance=self.config.tolerance,
        )
        self._frame, self._stable = (result.observation, time.monotonic()), result.stable
        step.add_time("settle", result.seconds)
        return result.observation

    def _screen_size(self, step: StepWork) -> Size:
        """The screen's size as last seen (one capture if nothing was seen yet)."""
        if self._frame is None:
            self._capture(step, "capture")
        assert self._frame is not None
        geometry = self._frame[0].geometry
        step.record.screen = {"width": geometry.width, "height": geometry.height, "orientation": geometry.orientation}
        return geometry.size

    # -- the hierarchy ---------------------------------------------------------------------------------

    def _read_nodes(self) -> list[UiNode] | None:
        """The UI hierarchy now, or None on a device without one (asked once, then remembered)."""
        if self._hierarchy is False:
            return None
        try:
            nodes = self.env.ui_nodes()
        except ValueError:  # a dump that is not XML: this look cannot tell
            return None
        if self._hierarchy is None:
            self._hierarchy = nodes is not None
        return nodes

    def _tree_view(self, step: StepWork) -> list[UiNode] | None:
        """The hierarchy once the last action's effect shows in it (None: the device has none)."""
        pending = self._pending
        if pending is not None and pending.kind == "frame":
            self._after_effect(step)  # no hierarchy to compare against: wait on frames
            pending = None
        started = time.perf_counter()
        nodes = self._read_nodes()
        step.add_time("verify", time.perf_counter() - started)  # the read a node check decides on
        if pending is not None and nodes is not None:
            self._pending = None
            nodes = self._tree_changed(pending, step, nodes)
        if nodes is not None and step.observation is None:
            step.decided, step.nodes = "tree", nodes
        return nodes

    def _tree_changed(
        self, pending: _Pending, step: StepWork | None, nodes: list[UiNode] | None = None
    ) -> list[UiNode] | None:
        """Read the hierarchy until it differs from the one the action was decided on (or ``effect_wait``)."""
        started = time.perf_counter()
        nodes = nodes if nodes is not None else self._read_nodes()
        while self.config.settle and nodes is not None and tuple(nodes) == pending.signature:
            if time.monotonic() - pending.at >= self.config.effect_wait:
                break
            nodes = self._read_nodes()
        if step is not None:
            step.add_time("settle", time.perf_counter() - started)
        return nodes

    def _view(self, step: StepWork) -> None:
        """What a step with no target decides on: the hierarchy in fast mode (no frame), else a frame."""
        if self.config.fast and not self.config.dry_run and self._tree_view(step) is not None:
            return
        self._look(step)

    def _wait_for_focus(self, step: StepWork, point: tuple[int, int]) -> None:
        """After tapping a field, wait until it has the input focus (the hierarchy says at once), so the
        text goes into it; where there is no hierarchy, until the tap shows on the screen."""
        pending, started = self._pending, time.perf_counter()
        if self._hierarchy and pending is not None:
            while True:
                focused = focused_node(self._read_nodes() or [])
                if focused is not None and focused.contains(*point):
                    break
                if not self.config.settle or time.monotonic() - pending.at >= self.config.effect_wait:
                    break
            step.add_time("settle", time.perf_counter() - started)
        else:
            self._after_effect(step)

    # -- after acting ----------------------------------------------------------------------------------

    def _acted(self, step: StepWork) -> None:
        """Note that input went out, with the view it was decided on, for the next look to wait against."""
        self._stable = False
        now = time.monotonic()
        if self._pending is not None:
            self._pending = _Pending(self._pending.kind, self._pending.signature, now)
        elif step.decided == "tree" and step.nodes is not None:
            self._pending = _Pending("tree", tuple(step.nodes), now)
        elif step.observation is not None:
            self._pending = _Pending("frame", frame_signature(step.observation), now)
        elif self._frame is not None:
            self._pending = _Pending("frame", frame_signature(self._frame[0]), now)

    def _finish_effect(self) -> None:
        """Before the session ends, let the last action show (the device is left as the script left it)."""
        pending, self._pending = self._pending, None
        if pending is not None and pending.kind == "tree" and self._hierarchy:
            self._tree_changed(pending, None)
        elif pending is not None:
            self._pending = pending
            self._after_effect(None)

"""``guiagent demo``: a new user's first run — no phone, no GPU, no model download.

The demo starts the virtual phone, connects it through a real adb server, replays a bundled recorded run
(a 15-step agent run: a note written, a message sent, Wi-Fi turned off) checking every step against the
recording, and writes the HTML report of the replay.

The bundled run was recorded by ``record_demo_run`` with ``PlanBackend``: a model stand-in that answers
in Qwen2.5-VL's own ``mobile_use`` format by looking up its targets on the virtual phone's screen. It is
also what the replay benchmark uses to play "the model" with a fixed latency.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from guiagent.actions.families import ModelFamily, get_family
from guiagent.actions.types import Action, Click, LongPress, OpenApp, Swipe, SystemButton, Terminate, Type
from guiagent.agent.backends.base import ModelBackend, ModelReply, ModelRequest
from guiagent.agent.trajectory import Trajectory

if TYPE_CHECKING:
    from guiagent.agent.hooks import AgentHooks

__all__ = ["DEMO_PLAN", "DEMO_TASK", "PlanBackend", "Step", "bundled_run", "record_demo_run", "run_demo"]

DEMO_TASK = "Write the note 'Buy oat milk', text Bob Smith 'On my way', then turn off Wi-Fi."


@dataclass(frozen=True)
class Step:
    """One planned step: ``open``/``tap``/``long``-press/``toggle`` a label (text, description or
    resource id), ``type`` text, ``swipe-up``, press ``home``, or ``done``."""

    verb: str
    target: str = ""


DEMO_PLAN: tuple[Step, ...] = (
    Step("open", "Notes"),
    Step("tap", "New note"),
    Step("type", "Buy oat milk"),
    Step("tap", "Save"),
    Step("home"),
    Step("open", "Messages"),
    Step("tap", "Start chat"),
    Step("tap", "To"),
    Step("type", "Bob Smith"),
    Step("tap", "Text message"),
    Step("type", "On my way"),
    Step("tap", "Send"),
    Step("open", "Settings"),
    Step("tap", "Wi-Fi"),
    Step("done"),
)


class PlanBackend(ModelBackend):
    """A stand-in model that follows a plan, answering in the family's own reply format.

    Targets are found on the virtual phone's current screen (its widget tree), so the replies are right
    even when the layout moves. ``latency`` adds a fixed delay per reply, to play a real model's speed.
    When a request carries a replay's re-grounding instruction (``Do this step now: Tap 'X'.``), it
    answers for that target instead of following the plan.
    """

    def __init__(self, phone: Any, plan: Sequence[Step], family: ModelFamily | None = None, latency: float = 0.0):
        self.phone = phone
        self.plan = list(plan)
        self.family = family or get_family("qwen2.5-vl-mobile")
        self.latency = latency
        self.model_id = "plan-backend"
        self._next = 0
        self._lock = threading.Lock()

    def complete(self, request: ModelRequest) -> ModelReply:
        started = time.perf_counter()
        time.sleep(self.latency)
        reply = self.reply_to(_request_text(request))
        return ModelReply(reply, seconds=time.perf_counter() - started, model=self.model_id)

    def reset(self, plan: Sequence[Step]) -> None:
        """Follow a new plan from its first step."""
        with self._lock:
            self.plan, self._next = list(plan), 0

    def reply_to(self, prompt_text: str) -> str:
        """The next reply, given the prompt's text (a re-grounding request names its own step)."""
        regrounding = re.search(r"Do this step now: (.+)", prompt_text)
        with self._lock:
            step = _step_from_thought(regrounding.group(1)) if regrounding else None
            if step is None:
                step = self.plan[min(self._next, len(self.plan) - 1)]
                self._next += 1
        action, thought = self._action(step)
        frame = self.phone.frame()
        screen = _size(frame.width, frame.height)
        return self.family.format_action(self.family.mapping(screen).to_model(action), thought=thought)

    def _action(self, step: Step) -> tuple[Action, str]:
        if step.verb == "open":
            return OpenApp(name=step.target), f"Open the {step.target} app."
        if step.verb == "type":
            return Type(text=step.target), f"Type '{step.target}'."
        if step.verb == "home":
            return SystemButton(button="home"), "Go back to the home screen."
        if step.verb == "done":
            return Terminate(status="success"), "Everything is done."
        if step.verb == "swipe-up":
            frame = self.phone.frame()
            x = frame.width // 2
            return Swipe(x=x, y=frame.height * 3 // 4, x2=x, y2=frame.height // 4), "Scroll the list further."
        widget = self._find(step.target)
        if widget is None:
            return Terminate(status="failure"), f"'{step.target}' is not on the screen."
        if step.verb == "toggle":
            widget = self._switch_beside(widget) or widget
        x, y = widget.bounds.center
        if step.verb == "long":
            return LongPress(x=x, y=y, duration=1.0), f"Long-press '{step.target}'."
        return Click(x=x, y=y), f"Tap '{step.target}'."

    def _find(self, target: str) -> Any:
        return self.phone.find(text=target) or self.phone.find(desc=target) or self.phone.find(rid=target)

    def _switch_beside(self, label: Any) -> Any:
        """The toggle in the same row as a label (rows of alarms, settings)."""
        switches = [w for w in self.phone.ui_tree().walk() if w.checkable]
        y = label.bounds.center[1]
        return min(switches, key=lambda w: abs(w.bounds.center[1] - y), default=None)


_THOUGHTS = (
    (re.compile(r"^Tap '(.+)'\.$"), "tap"),
    (re.compile(r"^Type '(.+)'\.$"), "type"),
    (re.compile(r"^Long-press '(.+)'\.$"), "long"),
    (re.compile(r"^Open the (.+) app\.$"), "open"),
    (re.compile(r"^Go back to the home screen\.$"), "home"),
    (re.compile(r"^Scroll the list further\.$"), "swipe-up"),
    (re.compile(r"^Everything is done\.$"), "done"),
)


def _step_from_thought(thought: str) -> Step | None:
    """The plan step a thought this backend wrote describes (to re-ground a replayed step)."""
    for pattern, verb in _THOUGHTS:
        match = pattern.match(thought.strip())
        if match:
            return Step(verb, match.group(1) if match.groups() else "")
    return None


def _size(width: int, height: int) -> Any:
    from guiagent.actions.geometry import Size

    return Size(width, height)


def _request_text(request: ModelRequest) -> str:
    from guiagent.actions.messages import TextPart

    return "".join(p.text for m in request.messages for p in m.content if isinstance(p, TextPart))


def bundled_run() -> Path:
    """The folder of the recorded run shipped with guiagent."""
    return Path(str(resources.files("guiagent.tasks").joinpath("demo").joinpath("notes-message-wifi")))


def record_demo_run(out: Path, latency: float = 0.0) -> Trajectory:
    """Record the demo run afresh on a new virtual phone (maintainers; and the replay benchmark).

    ``compact_run`` then stores the screenshots as lossless WebP, which keeps the shipped run small.
    """
    from guiagent.agent.loop import Agent
    from guiagent.agent.settings import AgentConfig
    from guiagent.envs.devices import VirtualPhoneEnv

    family = get_family("qwen2.5-vl-mobile")
    with VirtualPhoneEnv() as env:
        backend = PlanBackend(env.phone, DEMO_PLAN, family, latency)
        trajectory = Agent(env, backend, family, AgentConfig(max_steps=20, out_dir=out)).run(DEMO_TASK)
    return trajectory


def compact_run(source: Path, target: Path) -> Path:
    """Copy a run folder with its screenshots as lossless WebP (exact pixels; ~10 KB a phone screen)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(source / "run.json", target / "run.json")
    lines = []
    for line in (source / "steps.jsonl").read_text(encoding="utf-8").splitlines():
        step = json.loads(line)
        if step.get("screenshot"):
            name = Path(step["screenshot"]).with_suffix(".webp").name
            with Image.open(source / step["screenshot"]) as image:
                image.save(target / name, "WEBP", lossless=True, method=6)
            step["screenshot"] = name
        lines.append(json.dumps(step, ensure_ascii=False))
    (target / "steps.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def run_demo(
    out: Path, hooks: AgentHooks | None = None, on_ready: Callable[[str], None] | None = None
) -> tuple[Trajectory, Path]:
    """Replay the bundled run on a fresh virtual phone and write the report; returns both.

    Args:
        out: where the replay's run folder is written.
        hooks: told of each step as it is replayed (``ReplayHooks`` prints them).
        on_ready: called with the device's name once the phone is up and connected: starting it (and an
            adb server, when none runs) is the demo's one wait before the first step, worth a word.
    """
    from guiagent.envs.devices import VirtualPhoneEnv

    from .replay import replay
    from .report import write_run_report

    with VirtualPhoneEnv() as env:
        if on_ready is not None:
            on_ready(env.name)
        trajectory = replay(bundled_run(), env, out, hooks=hooks)
    return trajectory, write_run_report(trajectory.folder)


if __name__ == "__main__":  # python -m guiagent.tasks.demo: re-record the bundled run
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        recorded = record_demo_run(Path(scratch))
        print(f"recorded {len(recorded.steps)} steps: {recorded.status}", file=sys.stderr)
        print(compact_run(recorded.folder, Path(sys.argv[1]) if len(sys.argv) > 1 else bundled_run()))

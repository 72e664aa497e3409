"""Actions in a few words and one symbol: what the terminal's step lines and the report's timeline show.

The terminal and the HTML report describe the same recorded actions (JSON dicts in device pixels, as in
``StepRecord.actions_device``), so both use these functions and read alike: ``tap (925, 405)``,
``type "Buy oat milk"``, ``swipe (540, 1800) → (540, 600)``, ``home``. The symbols are plain Unicode
that common fonts carry (DejaVu, Noto, system UI fonts), never emoji, so a headless browser without an
emoji font still draws them.
"""

from __future__ import annotations

from typing import Any

from .annotate import marker_points

__all__ = ["action_icon", "action_label", "describe_action", "describe_actions"]

_ICONS = {
    "click": "◎",
    "double_click": "◎",
    "triple_click": "◎",
    "right_click": "◎",
    "middle_click": "◎",
    "long_press": "◉",
    "move": "➚",
    "drag": "⇢",
    "swipe": "⇅",
    "scroll": "⇕",
    "type": "⌨",
    "key": "⏎",
    "system_button": "⌂",
    "open_app": "▦",
    "wait": "⌛",
    "answer": "✉",
    "call_user": "?",
}
_BUTTONS = {"back": "←", "home": "⌂", "menu": "☰", "enter": "⏎", "app_switch": "❐", "recents": "❐"}
_WORDS = {"click": "tap", "system_button": ""}
_LONGEST_TEXT = 60


def action_icon(action: dict[str, Any]) -> str:
    """One symbol for an action: ◎ tap, ⇅ swipe, ⌨ type, ← back, ✓/✗ terminate..."""
    kind = str(action.get("type", ""))
    if kind == "terminate":
        return "✓" if action.get("status", "success") == "success" else "✗"
    if kind == "system_button":
        return _BUTTONS.get(str(action.get("button", "")), "⌂")
    return _ICONS.get(kind, "•")


def action_label(action: dict[str, Any]) -> str:
    """What an action does, without its coordinates: ``type "hello"``, ``key ctrl+c``, ``home``, ``tap``."""
    kind = str(action.get("type", "action"))
    if kind == "type":
        text = str(action.get("text", ""))
        return f'type "{text if len(text) <= _LONGEST_TEXT else text[: _LONGEST_TEXT - 1] + "…"}"'
    if kind == "key":
        return "key " + "+".join(str(k) for k in action.get("keys", []))
    if kind == "system_button":
        return str(action.get("button", "button"))
    if kind == "open_app":
        return f"open {action.get('name', '')}".strip()
    if kind == "wait":
        return f"wait {action.get('seconds', '')} s".replace("  ", " ")
    if kind == "terminate":
        return f"terminate {action.get('status', '')}".strip()
    if kind in ("answer", "call_user"):
        text = str(action.get("text") or action.get("message") or "")
        return f"{kind} {text[:_LONGEST_TEXT]}".strip()
    if kind == "scroll":
        return f"scroll {action.get('direction', '')}".strip()
    return _WORDS.get(kind, kind) or kind


def describe_action(action: dict[str, Any]) -> str:
    """The label and where it lands: ``tap (925, 405)``, ``swipe (540, 1800) → (540, 600)``."""
    where = " → ".join(f"({x}, {y})" for x, y in marker_points(action))
    return " ".join(part for part in (action_label(action), where) if part)


def describe_actions(actions: list[dict[str, Any]]) -> str:
    """A step's actions, ``; ``-separated, or ``no action``."""
    return "; ".join(describe_action(a) for a in actions) or "no action"

"""Typing any Unicode text on X11 with XTest: no clipboard, no external tool.

pyautogui presses keys of the current layout, so ``é`` or ``日本語`` have no key to press. X11 lets a client
point a keycode at any keysym (Unicode keysyms are ``0x01000000 + codepoint``; Latin-1 ones are the
codepoint) and XTest then presses it like a real key. ``XTestTyper`` borrows keycodes the layout leaves
empty, points one at each character it types, presses it, and gives the keycodes back empty on ``close()``.
Everything goes through python-xlib (installed with pyautogui) on pyautogui's own connection, so the
events keep their order among pyautogui's.

Why a keycode is never re-pointed soon after it was pressed: an application translates a key event with
the keyboard map it fetches *when it reads the event*, and after a mapping change Xlib fetches it again
lazily. Re-pointing a keycode (or emptying it) before the application has read the presses made with it
turns them into other characters or none; that is the race that loses text in tools that remap per batch.
So each character keeps its keycode while there are free ones, the least recently used keycode is reused
only once ``REUSE_AFTER`` seconds have passed since its last press, and ``close()`` waits as long before
emptying them. After each remap a short pause lets clients fetch the new map before the presses that need
it: without it, Tk under Xvfb was seen to read a freshly re-pointed keycode with its previous character.
"""

from __future__ import annotations

import time
from typing import Any

from guiagent.actions.errors import InputMethodMissing

__all__ = ["REUSE_AFTER", "XTestTyper", "keysym_for"]

REUSE_AFTER = 0.5
"""Seconds after its last press before a borrowed keycode may be pointed at another character."""
_NOTIFY_PAUSE = 0.03
_NEWLINE_KEYSYM = 0xFF0D  # Return
_TAB_KEYSYM = 0xFF09


def keysym_for(char: str) -> int:
    """The X11 keysym that types ``char``."""
    if char == "\n":
        return _NEWLINE_KEYSYM
    if char == "\t":
        return _TAB_KEYSYM
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 | code


class XTestTyper:
    """Types text on one X display by borrowing empty keycodes (see the module docstring).

    Args:
        display: a python-xlib ``Display`` (pyautogui's, so the events keep their order).
        device: the device name for errors.

    Raises:
        InputMethodMissing: the X server has no XTEST extension, or the layout leaves no keycode free.
    """

    def __init__(self, display: Any, device: str = "") -> None:
        if not display.has_extension("XTEST"):
            raise InputMethodMissing("the X server has no XTEST extension to type non-ASCII text with", device)
        self._display = display
        first = display.display.info.min_keycode
        rows = display.get_keyboard_mapping(first, display.display.info.max_keycode - first + 1)
        self._width = max((len(row) for row in rows), default=1) or 1
        self._spare = [first + i for i, row in enumerate(rows) if not any(row)]
        if not self._spare:
            raise InputMethodMissing("the keyboard layout leaves no keycode free to type non-ASCII text with", device)
        self._keycode_of: dict[str, int] = {}
        self._char_on: dict[int, str] = {}
        self._last_press: dict[int, float] = {}

    def type(self, text: str) -> None:
        """Press the keys that type ``text``, in order."""
        from Xlib import X
        from Xlib.ext import xtest

        start = 0
        while start < len(text):
            end, chars = start, set[str]()
            while end < len(text) and (text[end] in chars or len(chars) < len(self._spare)):
                chars.add(text[end])
                end += 1
            self._point(chars)
            for char in text[start:end]:
                keycode = self._keycode_of[char]
                xtest.fake_input(self._display, X.KeyPress, keycode)
                xtest.fake_input(self._display, X.KeyRelease, keycode)
                self._last_press[keycode] = time.monotonic()
            self._display.sync()
            start = end

    def _point(self, chars: set[str]) -> None:
        """Give every character in ``chars`` a keycode, with one mapping change for all that need one.

        Free keycodes go first; then those of characters not in ``chars``, least recently pressed first,
        once ``REUSE_AFTER`` has passed since their last press. One change covering the whole spare range
        means one notification, so no client can miss a part of it.
        """
        new = sorted(c for c in chars if c not in self._keycode_of)
        if not new:
            return
        free = [k for k in self._spare if k not in self._char_on]
        taken = [k for k in self._spare if k in self._char_on and self._char_on[k] not in chars]
        taken.sort(key=lambda k: self._last_press.get(k, 0.0))
        keycodes = (free + taken)[: len(new)]
        evicted = [k for k in keycodes if k in self._char_on]
        if evicted:
            wait = max(self._last_press.get(k, 0.0) for k in evicted) + REUSE_AFTER - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            for keycode in evicted:
                del self._keycode_of[self._char_on.pop(keycode)]
        for keycode, char in zip(keycodes, new, strict=True):
            self._keycode_of[char] = keycode
            self._char_on[keycode] = char
        self._write_map(keycodes)

    def _write_map(self, keycodes: list[int]) -> None:
        """Point each of ``keycodes`` at its character (or nothing), then let clients catch up.

        Only spare keycodes are written (rewriting any other would let the server's XKB layer reshape its
        groups). Each change is its own notification; the short pause after them lets clients that fetch
        the new map on the notification do so before the presses that need it arrive.
        """
        for keycode in keycodes:
            char = self._char_on.get(keycode)
            self._display.change_keyboard_mapping(
                keycode, [[keysym_for(char) if char is not None else 0] * self._width]
            )
        self._display.sync()
        time.sleep(_NOTIFY_PAUSE)

    def close(self) -> None:
        """Give every borrowed keycode back empty, once the last presses are safely read. Safe twice."""
        if not self._char_on:
            return
        wait = max(self._last_press.values(), default=0.0) + REUSE_AFTER - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        borrowed = list(self._char_on)
        self._keycode_of.clear()
        self._char_on.clear()
        self._write_map(borrowed)

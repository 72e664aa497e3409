"""Put text on the desktop clipboard, so text pyautogui cannot type can be pasted instead.

pyautogui types by pressing keys of the current keyboard layout, so ``é`` or ``日本語`` are silently
dropped. On X11 guiagent types those with XTest (``desktop_xtest``); elsewhere, or when XTest cannot, the
way round is the clipboard: copy the text, press the paste chord, then put back what the person had
there (``read_text`` before, ``copy_text`` after), so a typed secret never stays on their clipboard. On X11 the
clipboard is owned by a live process; ``xclip`` and ``xsel`` (Debian packages of the same names) fork a
small server that answers paste requests until another program takes the clipboard. macOS has
``pbcopy``. On Windows, Tk (shipped with Python) hands the text to the system clipboard, which keeps it
after Tk is gone.

The text goes to the tool on its standard input, never through a shell or a command line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile

from guiagent.actions.errors import InputMethodMissing

__all__ = ["clipboard_command", "copy_text", "paste_chord", "read_text"]

_X11_TOOLS: tuple[tuple[str, ...], ...] = (
    ("xclip", "-selection", "clipboard", "-in"),
    ("xsel", "--clipboard", "--input"),
)
_X11_READERS: tuple[tuple[str, ...], ...] = (
    ("xclip", "-selection", "clipboard", "-out"),
    ("xsel", "--clipboard", "--output"),
)
_TIMEOUT = 5.0


def clipboard_command(platform: str = sys.platform, device: str = "") -> list[str] | None:
    """The command that copies its standard input to the clipboard here, or None (Windows: use Tk).

    Raises:
        InputMethodMissing: on X11, neither ``xclip`` nor ``xsel`` is installed.
    """
    if platform == "darwin":
        return ["pbcopy"]
    if platform == "win32":
        return None
    for argv in _X11_TOOLS:
        if shutil.which(argv[0]):
            return list(argv)
    raise InputMethodMissing(
        "typing non-ASCII text needs a clipboard tool and none is installed: apt-get install xclip (or xsel)",
        device,
    )


def paste_chord(platform: str = sys.platform) -> list[str]:
    """The keys that paste in ordinary applications here (pyautogui names)."""
    return ["command", "v"] if platform == "darwin" else ["ctrl", "v"]


def copy_text(text: str, device: str = "", platform: str = sys.platform) -> None:
    """Make ``text`` the clipboard's content.

    Raises:
        InputMethodMissing: no clipboard tool is installed, or it failed.
    """
    argv = clipboard_command(platform, device)
    if argv is None:
        _copy_with_tk(text, device)
        return
    # The X11 tools fork a server that keeps the clipboard and inherits our file descriptors: a pipe
    # for stderr would stay open until the clipboard changes hands, so errors go to a file.
    with tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(
                argv,
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=err,
                timeout=_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputMethodMissing(f"{argv[0]} could not set the clipboard: {exc}", device) from exc
        if done.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip()
            raise InputMethodMissing(f"{argv[0]} failed ({done.returncode}): {message}", device)


def read_text(platform: str = sys.platform) -> str | None:
    """The clipboard's text now, or None when it holds none (or no tool can read it)."""
    if platform == "darwin":
        readers: tuple[tuple[str, ...], ...] = (("pbpaste",),)
    elif platform == "win32":
        return _read_with_tk()
    else:
        readers = _X11_READERS
    for argv in readers:
        if not shutil.which(argv[0]):
            continue
        try:
            done = subprocess.run(list(argv), capture_output=True, timeout=_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.decode("utf-8", errors="replace") if done.returncode == 0 else None
    return None


def _read_with_tk() -> str | None:
    try:
        import tkinter
    except ImportError:  # pragma: no cover - Python built without Tk
        return None
    root = tkinter.Tk()
    try:
        root.withdraw()
        return str(root.clipboard_get())
    except tkinter.TclError:
        return None
    finally:
        root.destroy()


def _copy_with_tk(text: str, device: str) -> None:
    try:
        import tkinter
    except ImportError as exc:  # pragma: no cover - Python built without Tk
        raise InputMethodMissing("typing non-ASCII text on Windows needs Tk (tkinter)", device) from exc
    root = tkinter.Tk()
    try:
        root.withdraw()
        root.clipboard_clear()
        root.clipboard_append(text)
        root.update()
    finally:
        root.destroy()

"""What ``guiagent doctor`` checks on this machine: adb and devices, the X display, input, torch, libraries.

Each check returns one ``Check``: ✓ (works), ✗ (broken, with the command or setting that fixes it), or –
(not set up, and only needed for some uses: no GPU, no X display on a phone-only machine). Checks never
raise, import heavy libraries only when they are installed, and take at most a few seconds each.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Check", "Verdict", "adb_checks", "display_checks", "library_checks", "version_at_least"]

Verdict = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's table.

    Args:
        name: what was checked ("adb server").
        verdict: ``ok``, ``fail`` (something a user would need is broken) or ``skip`` (optional, absent).
        detail: what was found.
        fix: how to fix a ``fail`` (or set up a ``skip``); empty when there is nothing to do.
    """

    name: str
    verdict: Verdict
    detail: str
    fix: str = ""


def _version(*distributions: str) -> str | None:
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def version_at_least(version: str, minimum: str) -> bool:
    """Compare dotted release numbers (``4.57.1`` ≥ ``4.49``), ignoring suffixes like ``.dev0`` or ``+cu121``."""

    def numbers(text: str) -> tuple[int, ...]:
        parts = []
        for piece in text.split("+")[0].split("."):
            digits = "".join(ch for ch in piece if ch.isdigit())
            if not digits:
                break
            parts.append(int(digits))
        return tuple(parts)

    return numbers(version) >= numbers(minimum)


def adb_checks(host: str, port: int) -> list[Check]:
    """adbutils and its bundled adb binary, the adb server, and the devices it lists."""
    try:
        import adbutils
    except ImportError:
        return [Check("adb", "fail", "adbutils is not installed", "pip install 'guiagent[android]'")]
    checks: list[Check] = []
    try:
        binary = adbutils.adb_path()
    except Exception as exc:  # noqa: BLE001 - a wheel without its binary: report, never crash
        checks.append(Check("adb binary", "fail", f"adbutils has no adb binary ({exc})", "pip install -U adbutils"))
    else:
        checks.append(Check("adb binary", "ok", f"{binary} (adbutils {_version('adbutils')}); `guiagent adb` runs it"))
    client = adbutils.AdbClient(host=host, port=port)
    try:
        version = client.server_version()
    except (adbutils.AdbError, OSError) as exc:
        local = host in ("127.0.0.1", "localhost")
        fix = f"guiagent adb -P {port} start-server" if local else f"start an adb server on {host}:{port}"
        detail = f"none answers on {host}:{port} ({type(exc).__name__})"
        if local:
            detail += "; guiagent starts one itself when it opens a device"
        checks.append(Check("adb server", "skip" if local else "fail", detail, fix))
        return checks
    checks.append(Check("adb server", "ok", f"version {version} on {host}:{port}"))
    checks.append(_devices(client, host, port))
    return checks


def _devices(client: object, host: str, port: int) -> Check:
    try:
        listed = list(client.list())  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001
        return Check("Android devices", "fail", f"the adb server could not list devices: {exc}", "guiagent adb devices")
    if not listed:
        return Check(
            "Android devices",
            "skip",
            "none connected",
            "plug in a phone with USB debugging on, `guiagent adb connect HOST:PORT`, or use --device virtual",
        )
    states = {item.serial: item.state for item in listed}
    shown = ", ".join(f"{serial} ({state})" for serial, state in states.items())
    bad = {serial: state for serial, state in states.items() if state != "device"}
    if not bad:
        return Check("Android devices", "ok", shown)
    if "unauthorized" in bad.values():
        fix = "unlock the phone and accept the 'Allow USB debugging?' prompt"
    else:
        fix = f"reconnect it: guiagent adb -P {port} reconnect offline (or unplug and plug it back)"
    return Check("Android devices", "fail", shown, fix)


def display_checks(environ: dict[str, str] | None = None) -> list[Check]:
    """DISPLAY and XAUTHORITY, the connection to the X server, and how text can be typed (XTest or a clipboard)."""
    env = dict(os.environ if environ is None else environ)
    display = env.get("DISPLAY", "")
    clipboard = next((tool for tool in ("xclip", "xsel") if shutil.which(tool)), None)
    if not display:
        return [
            Check(
                "DISPLAY",
                "skip",
                "not set: no X display (needed only for --device desktop)",
                "export DISPLAY=:0 for your desktop, or run a virtual one: Xvfb :99 & export DISPLAY=:99",
            )
        ]
    checks = [_xauthority(env)]
    try:
        from Xlib import display as xdisplay
    except ImportError:
        missing = Check("DISPLAY", "fail", f"{display}: python-xlib is missing", "pip install 'guiagent[desktop]'")
        checks.insert(0, missing)
        return checks
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # python-xlib prints a warning for an empty cookie file
            connection = xdisplay.Display(display)
    except Exception as exc:  # noqa: BLE001 - Xlib raises its own error types, and OSError
        checks.insert(
            0,
            Check(
                "DISPLAY",
                "fail",
                f"{display}: cannot connect ({type(exc).__name__}: {exc})",
                "check that the X server runs and that DISPLAY and XAUTHORITY point at it (xauth list; xhost)",
            ),
        )
        return checks
    try:
        screen = connection.screen()
        size = f"{screen.width_in_pixels}x{screen.height_in_pixels}"
        checks.insert(0, Check("DISPLAY", "ok", f"{display}, screen {size}"))
        xtest = bool(connection.has_extension("XTEST"))
    finally:
        connection.close()
    if xtest:
        extra = f"; clipboard fallback {clipboard}" if clipboard else ""
        checks.append(Check("text input", "ok", f"XTest types any Unicode text{extra}"))
    elif clipboard:
        checks.append(Check("text input", "ok", f"no XTest: non-ASCII text goes through the clipboard ({clipboard})"))
    else:
        checks.append(
            Check(
                "text input",
                "fail",
                "no XTEST extension in the X server and no clipboard tool: non-ASCII text cannot be typed",
                "apt-get install xclip (or run an X server with XTEST, as Xvfb and Xorg are by default)",
            )
        )
    return checks


def _xauthority(env: dict[str, str]) -> Check:
    value = env.get("XAUTHORITY", "")
    if value:
        if Path(value).is_file():
            return Check("XAUTHORITY", "ok", value)
        fix = "unset XAUTHORITY, or point it at the display's cookie file"
        return Check("XAUTHORITY", "fail", f"{value} does not exist", fix)
    default = Path(env.get("HOME", str(Path.home()))) / ".Xauthority"
    if default.is_file():
        return Check("XAUTHORITY", "ok", f"not set; {default} is used")
    return Check("XAUTHORITY", "skip", "not set, no ~/.Xauthority (fine for a server without access control, as Xvfb)")


_MINIMUM = {"transformers": "4.49", "qwen-vl-utils": "0.0.14"}
"""The ``local`` extra's lower bounds (pyproject.toml)."""


def library_checks() -> list[Check]:
    """torch and CUDA, transformers and qwen-vl-utils: what running a model in-process needs."""
    local = "pip install 'guiagent[local]' (only to run models in-process; --base-url needs none of it)"
    checks: list[Check] = []
    torch_version = _version("torch")
    if torch_version is None:
        checks.append(Check("torch", "skip", "not installed", local))
    else:
        checks.append(_cuda(torch_version))
    for name, minimum in _MINIMUM.items():
        version = _version(name)
        if version is None:
            checks.append(Check(name, "skip", "not installed", local))
        elif not version_at_least(version, minimum):
            fix = f"pip install -U '{name}>={minimum}'"
            checks.append(Check(name, "fail", f"{version}, older than {minimum}", fix))
        else:
            checks.append(Check(name, "ok", version))
    return checks


def _cuda(version: str) -> Check:
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - a broken install (missing CUDA libraries) raises anything
        return Check("torch", "fail", f"{version} is installed but does not import: {exc}", "pip install -U torch")
    if not torch.cuda.is_available():
        return Check(
            "torch",
            "skip",
            f"{version}, no CUDA GPU: in-process models run on the CPU (slowly)",
            "use a served model with --base-url, or install a CUDA build of torch on a GPU machine",
        )
    count = torch.cuda.device_count()
    name = torch.cuda.get_device_name(0)
    memory = torch.cuda.get_device_properties(0).total_memory / 2**30
    return Check("torch", "ok", f"{version}, CUDA {torch.version.cuda}: {count} GPU(s), {name} ({memory:.0f} GB)")

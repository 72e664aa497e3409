"""Finding the package behind an app's label ("Settings" → ``com.android.settings``).

Android offers no shell command that maps launcher labels to packages, so the resolver combines what
the device does report — its launchable packages — with a table of well-known apps and a match of the
label's words against package names. A name it cannot place goes back to the model as ``ActionRejected``
listing what is installed, so the model can correct itself.
"""

from __future__ import annotations

import re
from typing import Protocol

from guiagent.actions.errors import ActionRejected

__all__ = ["KNOWN_APPS", "AppResolver"]

KNOWN_APPS: dict[str, tuple[str, ...]] = {
    "settings": ("com.android.settings",),
    "chrome": ("com.android.chrome",),
    "browser": ("com.android.chrome", "com.android.browser"),
    "camera": ("com.android.camera2", "com.google.android.GoogleCamera", "com.android.camera"),
    "clock": ("com.google.android.deskclock", "com.android.deskclock"),
    "contacts": ("com.google.android.contacts", "com.android.contacts"),
    "phone": ("com.google.android.dialer", "com.android.dialer"),
    "messages": ("com.google.android.apps.messaging", "com.android.messaging", "com.android.mms"),
    "gmail": ("com.google.android.gm",),
    "maps": ("com.google.android.apps.maps",),
    "youtube": ("com.google.android.youtube",),
    "play store": ("com.android.vending",),
    "files": ("com.google.android.documentsui", "com.android.documentsui"),
    "file manager": ("com.google.android.documentsui", "com.android.documentsui"),
    "calendar": ("com.google.android.calendar", "com.android.calendar"),
    "calculator": ("com.google.android.calculator", "com.android.calculator2"),
    "photos": ("com.google.android.apps.photos",),
    "gallery": ("com.android.gallery3d", "com.google.android.apps.photos"),
    "notes": ("com.google.android.keep",),
    "keep": ("com.google.android.keep",),
}

_GENERIC_PARTS = {"com", "android", "google", "apps", "app", "org", "net", "mobile"}


class _Runner(Protocol):
    def run(self, argv: list[str], timeout: float | None = None, *, check: bool = False) -> _Result: ...


class _Result(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def exit_code(self) -> int: ...


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


class AppResolver:
    """Resolves app names to launchable packages on one device (the package list is read once)."""

    def __init__(self, runner: _Runner) -> None:
        self._runner = runner
        self._launchable: list[str] | None = None

    def launchable(self) -> list[str]:
        """Packages with a launcher activity."""
        if self._launchable is None:
            result = self._runner.run(
                [
                    "cmd",
                    "package",
                    "query-activities",
                    "--brief",
                    "-a",
                    "android.intent.action.MAIN",
                    "-c",
                    "android.intent.category.LAUNCHER",
                ]
            )
            found = re.findall(r"^\s*([A-Za-z0-9_.]+)/[A-Za-z0-9_.$]+\s*$", result.text, re.MULTILINE)
            if not found:
                listing = self._runner.run(["pm", "list", "packages"], check=True).text
                found = [line.removeprefix("package:").strip() for line in listing.splitlines() if line.strip()]
            self._launchable = sorted(set(found))
        return self._launchable

    def resolve(self, name: str) -> str:
        """The package to launch for ``name`` (a package name or a label).

        Raises:
            ActionRejected: nothing installed matches, or several match equally well.
        """
        packages = self.launchable()
        wanted = name.strip()
        if wanted in packages:
            return wanted
        key = " ".join(_words(wanted))
        for candidate in KNOWN_APPS.get(key, ()):
            if candidate in packages:
                return candidate
        scored = sorted(((self._score(key, p), p) for p in packages), reverse=True)
        best = [p for score, p in scored if score > 0 and score == scored[0][0]]
        if len(best) == 1:
            return best[0]
        shown = ", ".join(best or packages[:25])
        if best:
            raise ActionRejected(f"app name {name!r} matches several apps ({shown}); give the package name")
        raise ActionRejected(f"no installed app matches {name!r}; launchable apps: {shown}")

    @staticmethod
    def _score(key: str, package: str) -> float:
        """How well a label's words match a package name; 0 when some word is missing."""
        words = _words(key)
        parts = [p for p in _words(package) if p not in _GENERIC_PARTS]
        if not words or not parts:
            return 0.0
        joined = "".join(parts)
        if all(w in joined for w in words):
            exact = "".join(words) in parts
            return 2.0 + exact - len(joined) / 1000
        return 0.0

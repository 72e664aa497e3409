"""Replacing a file so that a crash never leaves it half-written, and a finished write is on disk.

``run.json``, ``results.json`` and the HTML reports are rewritten while a run or a suite goes on, and are
what a person reads after a crash. One helper writes them all: the text goes to a temporary file in the
same folder, which is fsynced, renamed over the target (atomic on POSIX and Windows), and then the folder
itself is fsynced so that the rename survives a power cut too. A reader sees the old file or the new one,
never a mixture, and never an empty file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | Path, text: str) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably; returns the path.

    The temporary file's name is unique per process and thread, so two writers of the same target never
    write into each other's temporary file; the last rename wins.
    """
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)
    return target


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable. POSIX only: Windows cannot open a folder, and needs no such step."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

"""``guiagent adb ARGS...``: the adb binary that ships inside adbutils' wheel, for users with no adb on PATH.

A ``pip install "guiagent[android]"`` brings a working adb, but hides it in site-packages; this passes the
arguments through unchanged (``guiagent adb connect 127.0.0.1:5600``, ``guiagent adb devices``) and exits
with adb's own code. ``guiagent adb --path`` prints where the binary is, to put it on PATH.
"""

from __future__ import annotations

import argparse
import subprocess

from guiagent.actions.errors import ConfigError

__all__ = ["adb_binary", "register", "run_adb"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``adb`` subcommand."""
    parser = subparsers.add_parser(
        "adb",
        help="run the adb bundled with guiagent[android] (e.g. guiagent adb connect 127.0.0.1:5600)",
        description="Runs the adb binary shipped in adbutils' wheel with the given arguments, unchanged.",
        add_help=False,
    )
    # ``main`` hands every argument after ``adb`` to ``run_adb`` without parsing; this entry is for --help.
    parser.add_argument("adb_args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for adb")
    parser.set_defaults(handler=run_adb)


def adb_binary() -> str:
    """The path of the bundled adb.

    Raises:
        ConfigError: adbutils is not installed.
    """
    try:
        import adbutils
    except ImportError:
        raise ConfigError("the bundled adb comes with adbutils: pip install 'guiagent[android]'") from None
    return str(adbutils.adb_path())


def run_adb(args: argparse.Namespace) -> int:
    """Run adb with the arguments as given; its output goes straight to the terminal."""
    binary = adb_binary()
    if args.adb_args == ["--path"]:
        print(binary)
        return 0
    return subprocess.run([binary, *args.adb_args], check=False).returncode

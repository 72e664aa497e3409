"""``guiagent devices``, ``screenshot``, ``act`` and ``virtual-phone``: the devices by hand."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from typing import Any

from pydantic import ValidationError

from guiagent.actions.errors import ConfigError
from guiagent.actions.types import parse_action_json

from .arg_types import port

__all__ = ["add_device_options", "adb_options", "register"]


def add_device_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """``--device`` and the adb server's address, shared by every command that opens a device."""
    parser.add_argument(
        "--device",
        required=required,
        help="android, android:SERIAL, desktop, desktop:N, or virtual (an embedded virtual phone)",
    )
    parser.add_argument("--adb-host", default="127.0.0.1", help="adb server host (default 127.0.0.1)")
    parser.add_argument(
        "--adb-port",
        type=int,
        default=int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")),
        help="adb server port (default $ANDROID_ADB_SERVER_PORT or 5037)",
    )


def adb_options(args: argparse.Namespace) -> dict[str, Any]:
    """The adb server address from the parsed flags."""
    return {"adb_host": args.adb_host, "adb_port": args.adb_port}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the device subcommands."""
    devices = subparsers.add_parser("devices", help="list Android devices and desktop monitors")
    devices.add_argument("--json", action="store_true", help="print JSON")
    devices.add_argument("--adb-host", default="127.0.0.1")
    devices.add_argument("--adb-port", type=int, default=int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")))
    devices.set_defaults(handler=run_devices)

    shot = subparsers.add_parser("screenshot", help="save a device's screen to a PNG file")
    add_device_options(shot)
    shot.add_argument("-o", "--output", required=True, help="PNG file to write")
    shot.set_defaults(handler=run_screenshot)

    act = subparsers.add_parser(
        "act",
        help="perform one action (device pixels) on a device",
        description="Perform one action given as JSON in device pixels, the shape `guiagent parse` prints, "
        'e.g. \'{"type": "click", "x": 540, "y": 1200}\'.',
    )
    add_device_options(act)
    act.add_argument("action", metavar="ACTION-JSON", help="the action as JSON, or - to read it from stdin")
    act.set_defaults(handler=run_act)

    phone = subparsers.add_parser("virtual-phone", help="run a virtual Android phone that speaks ADB")
    phone.add_argument("--port", type=port, default=None, help="TCP port (default: a free one outside 5555-5585)")
    phone.add_argument("--size", default="1080x2400", help="screen size WIDTHxHEIGHT (default 1080x2400)")
    phone.add_argument("--density", type=int, default=420, help="screen density in dpi (default 420)")
    phone.add_argument("--log", default=None, help="append every received command to this JSON-lines file")
    phone.add_argument("--no-adb-keyboard", action="store_true", help="do not install ADBKeyboard")
    phone.add_argument("--layout-shift", type=int, default=0, help="shift app content down by N pixels")
    phone.set_defaults(handler=run_virtual_phone)


def run_devices(args: argparse.Namespace) -> int:
    """List devices."""
    from guiagent.envs.devices import list_devices

    found = list_devices(args.adb_host, args.adb_port)
    if args.json:
        print(json.dumps([d.__dict__ for d in found], indent=2))
        return 0
    if not found:
        print("no devices: connect a phone (adb devices), start Xvfb/a desktop, or use --device virtual")
        return 0
    for device in found:
        print(f"{device.name:32} {device.kind:8} {device.detail}")
    return 0


def run_screenshot(args: argparse.Namespace) -> int:
    """Save one screenshot."""
    from guiagent.envs.devices import open_env

    with open_env(args.device, **adb_options(args)) as env:
        observation = env.observe()
    observation.image.save(args.output, "PNG")
    geometry = observation.geometry
    print(f"{args.output}: {geometry.width}x{geometry.height} from {env.name}", file=sys.stderr)
    return 0


def run_act(args: argparse.Namespace) -> int:
    """Perform one device-space action."""
    from guiagent.envs.devices import open_env

    text = sys.stdin.read() if args.action == "-" else args.action
    action = action_from_json(text)
    with open_env(args.device, **adb_options(args)) as env:
        env.execute(action)
    print(json.dumps(action.to_json_dict(), ensure_ascii=False))
    return 0


def run_virtual_phone(args: argparse.Namespace) -> int:
    """Serve a virtual phone until Ctrl-C; a port taken or a log file that cannot be opened is one line."""
    from guiagent.actions.geometry import Size
    from guiagent.envs.virtual_phone import serve

    size = Size.parse(args.size)
    try:
        serve(
            args.port,
            size.width,
            size.height,
            args.log,
            density=args.density,
            adb_keyboard=not args.no_adb_keyboard,
            layout_shift=args.layout_shift,
        )
    except OSError as exc:
        raise ConfigError(f"cannot start the virtual phone: {_os_reason(exc, args.port)}") from None
    return 0


def _os_reason(exc: OSError, port: int | None) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is already in use; pick another --port, or leave it out for a free one"
    if exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return exc.strerror or str(exc)


ACTION_EXAMPLE = '{"type": "click", "x": 540, "y": 1200}'


def action_from_json(text: str) -> Any:
    """One device action from the JSON a person typed, or a one-line ``ConfigError`` saying what is wrong.

    Raises:
        ConfigError: not JSON, not one object, no or an unknown ``type``, or a field out of range; the
            message shows an example of the expected shape.
    """
    example = f"e.g. '{ACTION_EXAMPLE}' (device pixels; the shape `guiagent parse` prints)"
    try:
        value = json.loads(text)
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ConfigError(f"ACTION-JSON is not JSON ({reason.lower()} at column {_column(exc)}); {example}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"ACTION-JSON must be one JSON object, got {type(value).__name__}; {example}")
    if "type" not in value:
        raise ConfigError(f'ACTION-JSON has no "type" (the action: click, type, swipe...); {example}')
    try:
        return parse_action_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != value.get("type"))
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        detail = f"{where}: {message}" if where else message
        raise ConfigError(f"invalid action JSON: {detail}; {example}") from None


def _column(exc: ValueError) -> int:
    return exc.colno if isinstance(exc, json.JSONDecodeError) else 1

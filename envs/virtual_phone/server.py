"""The TCP endpoint the real adb server connects to (``adb connect 127.0.0.1:PORT``), and ``serve()``.

Why: with this, the virtual phone is indistinguishable from a phone in TCP/IP debugging mode — the real
adb server performs the CNXN handshake, lists it as ``device``, and every adb client (the ``adb``
binary, adbutils, our driver) talks to it unchanged. No AUTH is offered (like a device with
``ro.adb.secure=0``). Stopping the server drops every connection, so the adb server sees an unplugged
phone. Ports 5555-5585 are refused: the adb server scans them for emulators on its own.

Services: ``shell:CMD`` and ``exec:CMD`` (raw output), ``shell,v2,...:CMD`` (shell protocol v2: packets
of id byte + u32 length + payload; 1 = stdout, 2 = stderr, 3 = exit status), ``sync:``, and the trivial
``root:``/``unroot:``/``remount:`` answers. An interactive shell (no command) is refused.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .phone import VirtualPhone
from .protocol import make_banner
from .shell import ShellResult
from .sync import run_sync
from .transport import Connection, Stream

__all__ = ["EMULATOR_PORTS", "PhoneServer", "serve"]

logger = logging.getLogger(__name__)

EMULATOR_PORTS = range(5555, 5586)
"""Ports the adb server probes for emulators; a virtual phone must not listen on them."""
_V2_CHUNK = 64 * 1024


def _v2_packets(chunks: list[tuple[int, bytes]], exit_code: int) -> bytes:
    out = bytearray()
    for fd, data in chunks:
        for start in range(0, len(data), _V2_CHUNK):
            piece = data[start : start + _V2_CHUNK]
            out += struct.pack("<BI", fd, len(piece)) + piece
    out += struct.pack("<BIB", 3, 1, exit_code & 0xFF)
    return bytes(out)


def _dropped(stream: Stream, result: ShellResult) -> bool:
    """Drop the whole connection when the phone asks for it (an injected fault); True if it did."""
    if result.disconnect:
        stream.connection.close(timeout=0)
    return result.disconnect


def service_for(phone: VirtualPhone, stream: Stream) -> Callable[[], None] | None:
    """The body serving ``stream.destination``, or None to refuse the OPEN."""
    destination = stream.destination
    if destination.startswith(("shell:", "shell,")):
        head, sep, command = destination.partition(":")
        options = head.split(",")[1:]
        if not sep or not command.strip():
            return None  # interactive shells need a pty; a virtual phone has none
        if "v2" in options:
            if "shell_v2" not in phone.features:
                return None  # adbd without the v2 protocol refuses the service

            def shell_v2() -> None:
                result = phone.shell(command, log=False)
                if not _dropped(stream, result):
                    stream.write(_v2_packets(result.chunks, result.exit_code))

            return shell_v2

        def shell_v1() -> None:
            result = phone.shell(command, log=False)
            if not _dropped(stream, result):
                stream.write(result.output)

        return shell_v1
    if destination.startswith("exec:"):
        command = destination[len("exec:") :]

        def exec_raw() -> None:
            result = phone.shell(command, log=False)
            if not _dropped(stream, result):
                stream.write(result.output)

        return exec_raw
    if destination == "sync:":
        return lambda: run_sync(stream, phone)
    replies = {
        "root:": b"adbd cannot run as root in production builds\n",
        "unroot:": b"adbd not running as root\n",
        "remount:": b'Not running as root. Try "adb root" first.\n',
    }
    if destination in replies:
        reply = replies[destination]
        return lambda: stream.write(reply)
    return None


class PhoneServer:
    """Serves one ``VirtualPhone`` over the ADB device protocol on a TCP port.

    Args:
        phone: the phone to serve.
        host: address to listen on (loopback by default).
        port: TCP port; 0 picks a free ephemeral port outside 5555-5585.

    Use as a context manager, or call ``start()``/``stop()`` (both idempotent).
    """

    def __init__(self, phone: VirtualPhone, host: str = "127.0.0.1", port: int = 0) -> None:
        if port in EMULATOR_PORTS:
            raise ValueError(f"port {port} is in 5555-5585, which the adb server scans for emulators")
        self.phone = phone
        self.host = host
        self._requested_port = port
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: list[Connection] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._port = port

    @property
    def port(self) -> int:
        """The listening port (known once started)."""
        return self._port

    @property
    def serial(self) -> str:
        """The serial the adb server will list: ``host:port``."""
        return f"{self.host}:{self._port}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._listener is not None

    @property
    def connection_count(self) -> int:
        """Open adb connections right now."""
        with self._lock:
            return sum(1 for c in self._connections if c.alive)

    def _banner(self) -> bytes:
        props = self.phone.properties
        identity = {
            "ro.product.name": props["ro.product.name"],
            "ro.product.model": props["ro.product.model"],
            "ro.product.device": props["ro.product.device"],
        }
        return make_banner("device", identity, self.phone.features)

    def _bind(self) -> socket.socket:
        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._requested_port))
            except OSError:
                sock.close()
                raise
            if sock.getsockname()[1] not in EMULATOR_PORTS:
                return sock
            sock.close()
        raise OSError("could not find a free port outside 5555-5585")

    def start(self) -> PhoneServer:
        """Start listening (no-op if already running); returns self."""
        with self._lock:
            if self._listener is not None:
                return self
            listener = self._bind()
            listener.listen(16)
            listener.settimeout(0.2)
            self._port = listener.getsockname()[1]
            self._listener = listener
            self._stopping.clear()
            self._thread = threading.Thread(target=self._accept_loop, name=f"vphone-accept-{self._port}", daemon=True)
            self._thread.start()
        logger.info("virtual phone listening on %s", self.serial)
        return self

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        banner = self._banner()
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = Connection(sock, banner, lambda stream: service_for(self.phone, stream), self.phone.log)
            thread = threading.Thread(target=connection.run, name=f"vphone-conn-{self._port}", daemon=True)
            with self._lock:
                if self._stopping.is_set():
                    connection.close()
                    break
                self._connections = [c for c in self._connections if c.alive]
                self._connections.append(connection)
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop listening and drop every connection (the adb server sees the device vanish)."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is None:
                return
            self._stopping.set()
            connections, self._connections = self._connections, []
            threads, self._threads = self._threads, []
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() at once on Linux
        except OSError:
            pass
        listener.close()
        if self._thread is not None:
            self._thread.join(timeout)
        for connection in connections:
            connection.close(timeout)
        for thread in threads:
            thread.join(timeout)
        logger.info("virtual phone on %s stopped", self.serial)

    def __enter__(self) -> PhoneServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    port: int | None = None,
    width: int = 1080,
    height: int = 2400,
    log_path: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    density: int = 420,
    **phone_options: object,
) -> None:
    """Run a virtual phone until Ctrl-C (the ``guiagent virtual-phone`` command).

    Args:
        port: TCP port (None or 0: a free one outside 5555-5585).
        width: display width in pixels.
        height: display height in pixels.
        log_path: append every received command to this JSON-lines file.
        host: listen address.
        density: display density in dpi.
        **phone_options: further ``VirtualPhone`` keyword arguments (``adb_keyboard``, ``layout_shift``...).
    """
    phone = VirtualPhone(width, height, density, log_path=log_path, **phone_options)  # type: ignore[arg-type]
    with PhoneServer(phone, host, port or 0) as server:
        print(
            f"Virtual phone {phone.model} ({width}x{height}, {density} dpi) serving ADB on {server.serial}", flush=True
        )
        print(f"Connect with:  adb connect {server.serial}", flush=True)
        if log_path:
            print(f"Logging received commands to {log_path}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("\nStopping the virtual phone.", flush=True)

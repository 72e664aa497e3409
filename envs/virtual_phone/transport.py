"""One TCP connection from the adb server: handshake, stream table, flow control.

Why this shape: the adb server multiplexes many streams (one per ``adb shell``, ``sync:`` ...) over a
single socket. Each stream here is a small bidirectional pipe with ADB's flow control, so a service can
be written as plain blocking code (``stream.read_exact``, ``stream.write``) and run in its own thread,
while one reader thread per connection routes incoming messages. The rules (protocol.txt):

* OPEN(host_id, 0, "service\\0") is answered with OKAY(our_id, host_id), or CLSE(0, host_id) if refused.
* Every WRTE received is acknowledged with an OKAY; only one WRTE per stream may be in flight, so a
  writer waits for the host's OKAY before sending the next chunk (no ``delayed_ack`` is advertised).
* Payloads are chunked to the negotiated ``max_data``; CLSE from either side ends the stream.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
from collections.abc import Callable

from .protocol import (
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_VERSION,
    A_VERSION_SKIP_CHECKSUM,
    A_WRTE,
    MAX_PAYLOAD,
    Message,
    ProtocolError,
    read_message,
)

__all__ = ["Connection", "Stream", "StreamClosed"]

logger = logging.getLogger(__name__)

_INBOX_LIMIT = 4 * MAX_PAYLOAD
"""Host data buffered per stream before acknowledgements are held back (back-pressure)."""


class StreamClosed(Exception):
    """The stream or its connection is gone; the service should stop."""


class Stream:
    """One ADB stream as seen by a service: blocking, flow-controlled reads and writes."""

    def __init__(self, connection: Connection, local_id: int, remote_id: int, destination: str) -> None:
        self.connection = connection
        self.local_id = local_id
        self.remote_id = remote_id
        self.destination = destination
        self._cond = threading.Condition()
        self._inbox = bytearray()
        self._remote_closed = False
        self._closed = False
        self._can_send = True
        self._ack_owed = False

    # -- called by the connection's reader thread ---------------------------------------------
    def _on_okay(self) -> None:
        with self._cond:
            self._can_send = True
            self._cond.notify_all()

    def _on_write(self, data: bytes) -> None:
        with self._cond:
            self._inbox += data
            if len(self._inbox) <= _INBOX_LIMIT:
                ack = True
            else:
                self._ack_owed, ack = True, False
            self._cond.notify_all()
        if ack:
            self.connection.send(Message(A_OKAY, self.local_id, self.remote_id))

    def _on_close(self) -> None:
        with self._cond:
            self._remote_closed = True
            self._cond.notify_all()

    # -- called by the service ----------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once either side closed the stream or the connection dropped."""
        return self._closed or self._remote_closed or not self.connection.alive

    def write(self, data: bytes) -> None:
        """Send ``data`` as WRTE messages of at most ``max_data`` bytes, one in flight at a time.

        Raises:
            StreamClosed: the host closed the stream or the connection dropped.
        """
        view = memoryview(data)
        step = self.connection.max_data
        for start in range(0, len(view), step):
            with self._cond:
                while not self._can_send and not self.closed:
                    self._cond.wait(0.5)
                if self.closed:
                    raise StreamClosed(self.destination)
                self._can_send = False
            self.connection.send(Message(A_WRTE, self.local_id, self.remote_id, bytes(view[start : start + step])))

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes the host wrote; blocks until some arrive; ``b""`` once it closed."""
        with self._cond:
            while not self._inbox and not self.closed:
                self._cond.wait(0.5)
            data = bytes(self._inbox[:size])
            del self._inbox[:size]
            owed = self._ack_owed and len(self._inbox) <= _INBOX_LIMIT
            if owed:
                self._ack_owed = False
        if owed and not self.closed:
            self.connection.send(Message(A_OKAY, self.local_id, self.remote_id))
        return data

    def read_exact(self, size: int) -> bytes:
        """Exactly ``size`` bytes. Raises ``StreamClosed`` if the stream ends first."""
        parts = bytearray()
        while len(parts) < size:
            chunk = self.read(size - len(parts))
            if not chunk:
                raise StreamClosed(self.destination)
            parts += chunk
        return bytes(parts)

    def close(self) -> None:
        """Close our side (sends CLSE once); safe to call twice."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
            remote_closed = self._remote_closed
        self.connection._forget(self)
        if self.connection.alive and not remote_closed:
            self.connection.send(Message(A_CLSE, self.local_id, self.remote_id))


ServiceStarter = Callable[[Stream], Callable[[], None] | None]
"""Given a new stream, returns the service body to run in a thread, or None to refuse the OPEN."""


class Connection:
    """The device side of one ADB transport over TCP.

    Args:
        sock: the accepted socket.
        banner: the CNXN payload to answer the host's CNXN with.
        start_service: resolves an OPEN into a service body (see ``ServiceStarter``).
        on_log: called with every OPEN destination as received, before it is served.
    """

    def __init__(
        self,
        sock: socket.socket,
        banner: bytes,
        start_service: ServiceStarter,
        on_log: Callable[[str, str], None],
    ) -> None:
        self.sock = sock
        self.banner = banner
        self.max_data = MAX_PAYLOAD
        self.version = A_VERSION
        self.alive = True
        self.online = False
        self._start_service = start_service
        self._on_log = on_log
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._streams_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []

    # -- sending --------------------------------------------------------------------------------
    def send(self, message: Message) -> None:
        """Send one message; a failed send marks the connection dead instead of raising."""
        raw = message.encode(with_checksum=self.version < A_VERSION_SKIP_CHECKSUM)
        try:
            with self._send_lock:
                self.sock.sendall(raw)
        except OSError:
            self._drop()

    # -- receiving ------------------------------------------------------------------------------
    def _recv_exact(self, size: int) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            chunk = self.sock.recv(size - len(buf))
            if not chunk:
                raise ConnectionError("peer closed the connection")
            buf += chunk
        return bytes(buf)

    def run(self) -> None:
        """Reader loop: runs until the socket closes or ``close()`` is called."""
        try:
            while self.alive:
                message = read_message(
                    self._recv_exact, MAX_PAYLOAD, verify_checksum=self.version < A_VERSION_SKIP_CHECKSUM
                )
                self._dispatch(message)
        except (OSError, ConnectionError, ProtocolError) as exc:
            if self.alive:
                logger.debug("connection ended: %s", exc)
        finally:
            self._drop()

    def _dispatch(self, message: Message) -> None:
        command = message.command
        if command == A_CNXN:
            self.version = min(A_VERSION, message.arg0) if message.arg0 else A_VERSION
            self.max_data = max(4096, min(MAX_PAYLOAD, message.arg1 or MAX_PAYLOAD))
            self._close_all_streams(notify_host=False)
            self.online = True
            self.send(Message(A_CNXN, self.version, self.max_data, self.banner))
            return
        if not self.online:
            return  # before the handshake, adbd ignores everything else (AUTH/STLS are never offered)
        if command == A_OPEN:
            self._open(message)
            return
        stream = self._streams.get(message.arg1)
        if stream is None or stream.remote_id != message.arg0:
            return  # a late message for a stream we already closed
        if command == A_OKAY:
            stream._on_okay()
        elif command == A_WRTE:
            stream._on_write(message.data)
        elif command == A_CLSE:
            stream._on_close()
            self._forget(stream)

    def _open(self, message: Message) -> None:
        destination = message.data.rstrip(b"\0").decode("utf-8", errors="replace")
        self._on_log("service", destination)
        stream = Stream(self, next(self._ids), message.arg0, destination)
        try:
            body = self._start_service(stream)
        except Exception:  # a broken service must not take the connection down
            logger.exception("service %r failed to start", destination)
            body = None
        if body is None:
            self.send(Message(A_CLSE, 0, message.arg0))
            return
        with self._streams_lock:
            self._streams[stream.local_id] = stream
        self.send(Message(A_OKAY, stream.local_id, stream.remote_id))
        thread = threading.Thread(
            target=self._run_service, args=(stream, body), name=f"vphone-{destination[:24]}", daemon=True
        )
        thread.start()  # before it is listed: ``close`` may join the list from another thread at any moment
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)

    @staticmethod
    def _run_service(stream: Stream, body: Callable[[], None]) -> None:
        try:
            body()
        except StreamClosed:
            pass
        except Exception:
            logger.exception("service %r crashed", stream.destination)
        finally:
            stream.close()

    # -- bookkeeping ----------------------------------------------------------------------------
    def _forget(self, stream: Stream) -> None:
        with self._streams_lock:
            if self._streams.get(stream.local_id) is stream:
                del self._streams[stream.local_id]

    def _close_all_streams(self, notify_host: bool) -> None:
        with self._streams_lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream._on_close()
            if notify_host:
                stream.close()

    def _drop(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self.online = False
        self._close_all_streams(notify_host=False)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def close(self, timeout: float = 2.0) -> None:
        """Drop the connection (the host sees an unplugged device) and wait for service threads."""
        self._drop()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)

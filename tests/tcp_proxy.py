"""A TCP proxy in front of the database that a test (or the soak, bench/soak.py) can pull the plug on, or freeze."""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the database. stop() drops every connection and refuses new ones; start() listens
    again on the same port; cut_when(b"...") drops the connection carrying those bytes before they arrive.

    freeze() makes the database go silent instead: connections stay open and new ones are accepted, but nothing is
    passed on in either direction until thaw() (what a hung server or a black-holed network looks like to the app).
    freeze_when(b"...") freezes just before those bytes would arrive. A frozen proxy thaws by itself after
    `thaw_after` seconds, so code without timeouts finishes late (and its test fails) rather than hanging."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.cut_pattern: bytes | None = None
        self.cuts = 0
        self.flowing = threading.Event()
        self.flowing.set()
        self.freeze_pattern: bytes | None = None
        self.guard: threading.Timer | None = None
        self.thaw_after = 30.0

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        listener.settimeout(0.1)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
        with self.lock:
            for sock in list(self.sockets):
                self._close(sock)

    def cut_when(self, pattern: bytes) -> None:
        self.cut_pattern = pattern

    def freeze(self) -> None:
        self.flowing.clear()
        self.guard = threading.Timer(self.thaw_after, self.thaw)
        self.guard.daemon = True
        self.guard.start()

    def freeze_when(self, pattern: bytes) -> None:
        self.freeze_pattern = pattern

    @property
    def frozen(self) -> bool:
        return not self.flowing.is_set()

    def thaw(self) -> None:
        if self.guard is not None:
            self.guard.cancel()
        self.flowing.set()

    def _close(self, sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        self.sockets.discard(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self.lock:
                self.sockets |= {client, upstream}
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, dest: socket.socket, inspect: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if inspect and self.cut_pattern and self.cut_pattern in data:
                    self.cut_pattern = None
                    self.cuts += 1
                    break  # the statement never reaches the server: the connection dies mid-transaction
                if inspect and self.freeze_pattern and self.freeze_pattern in data:
                    self.freeze_pattern = None
                    self.freeze()
                self.flowing.wait()  # silent while frozen: the bytes wait here, as in a hung server's buffers
                dest.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self._close(source)
                self._close(dest)

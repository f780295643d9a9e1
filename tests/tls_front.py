"""A TLS-terminating front for tests, as a platform router or nginx stands in front of the app in production.

`TlsFront` listens with HTTPS on 127.0.0.1 (a self-signed certificate made with openssl) and forwards each request
over plain HTTP to the app, adding `X-Forwarded-For`, `X-Forwarded-Proto: https` and `X-Forwarded-Host` as real
proxies do. The app then runs with TRUSTED_PROXIES=1, exactly as deployed.
"""
from __future__ import annotations

import http.client
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "front.crt", folder / "front.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class TlsFront:
    def __init__(self, backend_port: int, folder: Path) -> None:
        cert, key = self_signed_certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        handler = type("Handler", (_Forward,), {"backend_port": backend_port})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "TlsFront":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend_port = 0

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers.update({"X-Forwarded-For": self.client_address[0], "X-Forwarded-Proto": "https",
                        "X-Forwarded-Host": self.headers.get("Host", "")})
        backend = http.client.HTTPConnection("127.0.0.1", self.backend_port, timeout=30)
        try:
            backend.request(self.command, self.path, body=body or None, headers=headers)
            answer = backend.getresponse()
            payload = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        finally:
            backend.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward

    def log_message(self, format: str, *args: object) -> None:  # quiet: the app's own logs tell the story
        pass

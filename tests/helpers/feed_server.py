"""A real HTTP server on loopback serving feeds that a test edits between runs, with ETag support, and any
answer a test scripts itself (a slow drip, a gzip body) for the paths it names in `scripted`."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FeedServer:
    port: int = 0
    documents: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, content type)
    statuses: dict[str, int] = field(default_factory=dict)  # path -> forced status
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path, status answered)
    delays: dict[str, float] = field(default_factory=dict)  # path -> seconds to wait before answering
    # path -> a function that writes the whole answer itself (status, headers, body)
    scripted: dict[str, Callable[[BaseHTTPRequestHandler], None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path: str, body: str, content_type: str = "application/rss+xml") -> None:
        with self.lock:
            self.documents[path] = (body.encode("utf-8"), content_type)

    def answered(self, path: str) -> list[int]:
        with self.lock:
            return [status for p, status in self.requests if p == path]


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                forced = state.statuses.get(self.path)
                doc = state.documents.get(self.path)
                delay = state.delays.get(self.path, 0.0)
                script = state.scripted.get(self.path)
            time.sleep(delay)
            if script is not None:
                script(self)
                with state.lock:
                    state.requests.append((self.path, 0))  # 0: the script chose the status
                return
            if forced or doc is None:
                status = forced or 404
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                body, content_type = doc
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    status = 304
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                else:
                    status = 200
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
            with state.lock:
                state.requests.append((self.path, status))

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

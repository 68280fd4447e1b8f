"""Real loopback servers for integration tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver.

Both are plain context managers so that any test module (or the lead's conftest fixtures) can use them:

    with smtp_server() as smtp:
        channel = Channel("mail", smtp.mailto_url())
        ...
        [mail] = smtp.messages.wait_for(1)          # an email.message.EmailMessage with .mail_from etc.
        assert mail["Subject"] == ...

    with webhook_receiver(status=500) as hook:
        channel = Channel("hook", hook.json_url())
        ...
        [post] = hook.requests.wait_for(1)          # post.path, post.headers, post.json

Synchronisation is by condition variable (`Collector.wait_for`), never by sleeping.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

T = TypeVar("T")

LOOPBACK = "127.0.0.1"


class Collector(list[T]):
    """A list that a server thread appends to and a test can wait on until it holds N items.

    It is a real list (indexing, len, `== []` work); appends take a condition variable so that
    `wait_for` wakes as soon as the item arrives. No sleeps.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()

    def append(self, item: T) -> None:
        with self._cond:
            super().append(item)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[T]:
        """Block until at least `count` items arrived; return a snapshot, or raise AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} item(s) within {timeout}s, received {len(self)}")
            return list(self)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (also handy for 'connection refused' tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --- SMTP ------------------------------------------------------------------------------------------


class ReceivedMail(email.message.EmailMessage):
    """A received message, parsed (`msg["Subject"]`, `msg.walk()`...), plus its SMTP envelope."""

    mail_from: str = ""
    rcpt_tos: tuple[str, ...] = ()
    login: str | None = None  # the AUTH user name the client logged in with, if any

    def part(self, content_type: str) -> str | None:
        """The decoded body of the first part with this content type (e.g. 'text/plain'), or None."""
        for part in self.walk():
            if part.get_content_type() == content_type:
                return part.get_content()  # type: ignore[attr-defined]
        return None

    def body_text(self) -> str:
        """Every text/* part decoded and joined (the text/plain part first, as Apprise sends it)."""
        return "\n".join(
            part.get_content()  # type: ignore[attr-defined]
            for part in self.walk()
            if part.get_content_maintype() == "text"
        )


class _SmtpHandler:
    def __init__(self, sink: Collector[ReceivedMail]) -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(
            envelope.original_content, _class=ReceivedMail, policy=email.policy.default
        )
        message.mail_from = envelope.mail_from
        message.rcpt_tos = tuple(envelope.rcpt_tos)
        auth = session.auth_data
        message.login = auth.login.decode(errors="replace") if isinstance(auth, LoginPassword) else None
        self._sink.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    reject_auth: bool
    messages: Collector[ReceivedMail] = field(default_factory=Collector)
    logins: Collector[str] = field(default_factory=Collector)  # every AUTH attempt's user name

    def mailto_url(
        self,
        user: str = "alerts",
        password: str = "secret",
        to: str = "ops@example.org",
        sender: str = "monitor@example.org",
        extra: str = "",
    ) -> str:
        """The Apprise URL that sends plain (no TLS) SMTP with AUTH to this server."""
        creds = f"{user}:{password}@" if user else ""
        url = f"mailto://{creds}{self.host}:{self.port}?mode=insecure&from={sender}&to={to}"
        return url + (f"&{extra}" if extra else "")

    @staticmethod
    def body(message: ReceivedMail) -> str:
        """All text parts of a received message, decoded and joined."""
        return message.body_text()


@contextlib.contextmanager
def smtp_server(*, reject_auth: bool = False, port: int | None = None) -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 (a free port, or `port`: an outage test first points a channel at
    a port where nothing listens, then starts the server there) that accepts any AUTH login, or rejects
    every login with `535 5.7.8 Authentication credentials invalid` when `reject_auth` is true. AUTH is
    offered without TLS; clients that do not log in are accepted too."""
    port = port or free_port()
    server = SmtpServer(host=LOOPBACK, port=port, reject_auth=reject_auth)

    def authenticator(smtp: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            server.logins.append(auth_data.login.decode(errors="replace"))
        if reject_auth:
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data)

    controller = Controller(
        _SmtpHandler(server.messages),
        hostname=LOOPBACK,
        port=port,
        server_hostname="localhost",  # avoid socket.getfqdn(), which can be slow
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=False,
    )
    # aiosmtpd logs a deprecation warning of its own on every AUTH; keep test output clean
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# --- HTTP webhook receiver --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # including any query string
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    host: str
    port: int
    requests: Collector[ReceivedRequest] = field(default_factory=Collector)
    status: int = 200  # may be changed while running; applies to the next request
    answer: bytes | None = None  # the response body; None: {"status": <status>} as JSON
    on_request: Callable[[ReceivedRequest], None] | None = None  # runs before the answer (may block)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def json_url(self, path: str = "/hook", query: str = "") -> str:
        """The Apprise json:// URL that POSTs to this receiver at `path`."""
        url = f"json://{self.host}:{self.port}{path}"
        return url + (f"?{query}" if query else "")


@contextlib.contextmanager
def webhook_receiver(
    status: int = 200,
    *,
    answer: bytes | None = None,
    on_request: Callable[[ReceivedRequest], None] | None = None,
) -> Iterator[WebhookReceiver]:
    """An HTTP server on 127.0.0.1 (free port) in a thread that records every request (POST, PUT, GET)
    and answers with `status` (200 by default; set 404/500/429 for failure tests). `answer` replaces the
    JSON body (a chat service's own success reply); `on_request` sees each request before it is answered,
    so a test can hold a sender in flight."""
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _record(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = ReceivedRequest(
                method=self.command,
                path=self.path,
                headers={k: v for k, v in self.headers.items()},
                body=body,
            )
            receiver.requests.append(request)
            if receiver.on_request is not None:
                receiver.on_request(request)
            payload = receiver.answer
            self.send_response(receiver.status)
            if payload is None:
                payload = json.dumps({"status": receiver.status}).encode()
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PUT = do_GET = _record

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    httpd.daemon_threads = True
    receiver = WebhookReceiver(
        host=LOOPBACK, port=httpd.server_address[1], status=status, answer=answer, on_request=on_request
    )
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver", daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)

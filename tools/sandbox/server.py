"""A local stand-in for the Paystack, Stripe and Square HTTP APIs.

One server speaks the subset of each API that the payment adapters use, at the real
paths and with the real JSON shapes, so the same adapters work against it and against
the providers:

    /paystack/...            like https://api.paystack.co/...
    /stripe/v1/...           like https://api.stripe.com/v1/...
    /square/v2/...           like https://connect.squareup.com/v2/...
    /pay/{provider}/{id}     the hosted payment page (Pay / Decline)
    /_sandbox/...            control: pay, behaviour, transfer, state, reset

Finishing a payment changes the provider-side state, then sends the provider's signed
webhook to ``{deliver_to}/api/v2/webhooks/{provider}/``. Standard library only, so it
runs without the project's dependencies. Where it knowingly differs from a provider is
said in that provider's module (``paystack.py``, ``stripe.py``, ``square.py``).
"""

from __future__ import annotations

import logging
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.sandbox.common import JSON, SandboxSecrets, json_reply
from tools.sandbox.core import Sandbox

logger = logging.getLogger("tools.sandbox")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: Sandbox

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which may wait on DNS; the
        # name is only used in CGI environments.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the adapters' pooled clients expect
    # Headers and body go out in two writes; with Nagle on, a kept-alive client's delayed
    # ACK would hold the body back ~40 ms on every call.
    disable_nagle_algorithm = True
    server_version = "PaymentSandbox/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            # Lower-cased names: the handlers look headers up as "authorization" etc.
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = self.server.sandbox.handle(
                method, self.path, headers, body, headers.get("host") or ""
            )
        except Exception:
            logger.exception("sandbox.error method=%s path=%s", method, self.path)
            reply = json_reply(500, {"error": "sandbox internal error"})
        if reply.drop:
            # The work is done; the client gets no answer, only a closed connection.
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a simulated timeout): nobody is left to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox.request %s", format % args)


class SandboxServer:
    """The sandbox over HTTP, on a background thread (``start``) or in the foreground
    (``serve_forever``). ``deliver_to=None`` records webhooks in ``sent_webhooks``
    without sending them, so a test can post them through its own client."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        deliver_to: str | None = None,
        secrets: SandboxSecrets | None = None,
        *,
        public_url: str | None = None,
        delivery_timeout: float = 10.0,
        refund_webhook_delay: float = 0.5,
    ) -> None:
        self.sandbox = Sandbox(
            secrets=secrets,
            deliver_to=deliver_to,
            public_url=public_url,
            delivery_timeout=delivery_timeout,
            refund_webhook_delay=refund_webhook_delay,
        )
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self.sandbox
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            # A short poll makes stop() quick, which tests starting a server each feel.
            kwargs={"poll_interval": 0.01},
            name="payment-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_behaviour(
        self,
        match: str,
        mode: str,
        *,
        times: int | None = None,
        delay: float | None = None,
        status: int | None = None,
    ) -> JSON:
        """See ``Sandbox.set_behaviour``."""
        return self.sandbox.set_behaviour(match, mode, times=times, delay=delay, status=status)

    def pay(self, provider: str, ident: str, outcome: str = "success") -> JSON:
        """Pay (or decline) ``ident`` (any id of the payment) and send its webhooks."""
        return self.sandbox.pay(provider, ident, outcome)

    def reset(self) -> None:
        self.sandbox.reset()

    def settle_transfer(self, provider: str, ident: str, outcome: str = "success") -> JSON:
        """Settle (``success``, ``failed``) or reverse a transfer and send its webhook."""
        return self.sandbox.transfers.settle(provider, ident, outcome)

    def transfers(self) -> JSON:
        """Recipients, connected accounts and transfers so far."""
        return self.sandbox.transfers.state()

    def state(self) -> JSON:
        return self.sandbox.state()

    @property
    def sent_webhooks(self) -> list[JSON]:
        """Every webhook so far: provider, type, url, headers, body (bytes), delivered,
        status (the app's HTTP status), error."""
        return self.sandbox.sent_webhooks

"""``python -m tools.sandbox``: serve the payment-provider sandbox until interrupted."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from tools.sandbox.common import DEFAULT_DELIVER_TO, SandboxSecrets
from tools.sandbox.server import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.sandbox",
        description="Local Paystack / Stripe / Square sandbox that sends signed webhooks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001; 0 = any)")
    parser.add_argument(
        "--deliver-to",
        default=os.environ.get("SANDBOX_DELIVER_TO", DEFAULT_DELIVER_TO),
        help="base URL of the app receiving webhooks; 'none' only records them "
        f"(default {DEFAULT_DELIVER_TO})",
    )
    parser.add_argument(
        "--public-url",
        default=os.environ.get("SANDBOX_PUBLIC_URL") or None,
        help="base URL browsers reach the hosted pay page on (default: the Host header)",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG shows every request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    deliver_to = None if args.deliver_to.lower() in {"", "none"} else args.deliver_to
    server = SandboxServer(
        args.host,
        args.port,
        deliver_to=deliver_to,
        secrets=SandboxSecrets.from_env(),
        public_url=args.public_url,
    )
    # The first stdout line is the address, so scripts can start it on port 0.
    print(f"payment sandbox on {server.url} (webhooks to {deliver_to or 'nowhere'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A local payment-provider sandbox speaking the Paystack, Stripe and Square APIs.

Run it with ``python -m tools.sandbox``; embed it in tests with ``SandboxServer``.
"""

from tools.sandbox.common import MODES, PROVIDERS, SandboxError, SandboxSecrets
from tools.sandbox.core import Sandbox
from tools.sandbox.server import SandboxServer

__all__ = ["MODES", "PROVIDERS", "Sandbox", "SandboxError", "SandboxSecrets", "SandboxServer"]

"""Health checks for psycopg's connection pool that cost nothing on a busy server.

Django's ``CONN_HEALTH_CHECKS`` makes the pool probe every connection it hands out
(``SELECT 1``-like round trip), which on a hot read doubles the round trips. A connection
that was in use a moment ago is known good; only one that sat idle in the pool longer
than ``IDLE_CHECK_SECONDS`` — long enough for a server restart, a failover or an idle
timeout to have closed it — is probed. A connection broken while in use is discarded by
the pool when it comes back.
"""

from __future__ import annotations

import time

from psycopg import Connection
from psycopg_pool import ConnectionPool

IDLE_CHECK_SECONDS = 5.0
_RETURNED_AT = "_fashionistar_returned_at"


def mark_returned(conn: Connection[object]) -> None:
    """Pool ``reset`` callback: remember when ``conn`` came back to the pool."""
    setattr(conn, _RETURNED_AT, time.monotonic())


def check_if_idle(conn: Connection[object]) -> None:
    """Pool ``check`` callback: probe ``conn`` only if it idled for a while (raises when
    the probe fails, and the pool then replaces the connection)."""
    returned_at: float | None = getattr(conn, _RETURNED_AT, None)
    if returned_at is None or time.monotonic() - returned_at > IDLE_CHECK_SECONDS:
        ConnectionPool.check_connection(conn)

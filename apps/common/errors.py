"""Domain errors. Services raise these; one mapping per API layer turns them into
``application/problem+json`` (RFC 9457). Nothing here knows about an API framework.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import psycopg
import psycopg_pool
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: a dotted path (``items.0.quantity``), a message and a code."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class ApplicationError(Exception):
    """Base of every expected, client-caused failure.

    Subclasses fix the HTTP status and a default code; an instance may refine the code,
    the message, add machine-readable ``details`` and per-field errors.
    """

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        field_errors: list[FieldError] | None = None,
    ) -> None:
        self.message = message or self.title
        self.code = code or self.default_code
        self.details = details or {}
        self.field_errors = field_errors or []
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    status = 422
    default_code = "validation_failed"
    title = "Invalid input"

    @classmethod
    def for_field(cls, field: str, message: str, code: str = "invalid") -> ValidationFailed:
        return cls(message, field_errors=[FieldError(field, message, code)])


class NotAuthenticated(ApplicationError):
    status = 401
    default_code = "not_authenticated"
    title = "Authentication required"


class PermissionDenied(ApplicationError):
    status = 403
    default_code = "permission_denied"
    title = "Permission denied"


class NotFound(ApplicationError):
    status = 404
    default_code = "not_found"
    title = "Not found"


class Conflict(ApplicationError):
    status = 409
    default_code = "conflict"
    title = "Conflict"


class RateLimited(ApplicationError):
    status = 429
    default_code = "rate_limited"
    title = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(ApplicationError):
    status = 503
    default_code = "service_unavailable"
    title = "Service unavailable"

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class DatabaseUnavailable(ServiceUnavailable):
    default_code = "database_unavailable"
    title = "Database unavailable"

    #: Seconds a client is asked to wait before retrying (``Retry-After``).
    RETRY_AFTER: ClassVar[int] = 5

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("retry_after", self.RETRY_AFTER)
        super().__init__(
            message or "The database is unavailable; try again in a few seconds.", **kwargs
        )


# SQLSTATEs of a server that refuses or drops connections: connection exceptions (class 08),
# admin/crash shutdown, "cannot connect now" (starting up, recovering), too many connections.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def _connection_failure(error: BaseException) -> bool:
    if isinstance(
        error, (psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed, psycopg_pool.TooManyRequests)
    ):
        return True
    if isinstance(error, psycopg.InterfaceError):  # the connection is closed or broken
        return True
    if isinstance(error, psycopg.OperationalError):
        # No SQLSTATE: libpq failed to connect or lost the connection. With one: only the
        # states of an unreachable server, never a cancelled query, deadlock or the like.
        sqlstate = error.sqlstate
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES
    return False


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached (server down, connection
    refused or lost, no pooled connection within ``DATABASE_POOL_TIMEOUT``) — as opposed to
    a failing statement, which stays a server error.

    Django wraps the driver's exception in its own class and keeps the original as
    ``__cause__``: a pool that cannot hand out a connection raises Django's
    ``OperationalError`` caused by ``psycopg_pool.PoolTimeout``.
    """
    if _connection_failure(error):
        return True
    if isinstance(error, DjangoInterfaceError):
        return True
    if isinstance(error, DjangoOperationalError) and error.__cause__ is not None:
        return _connection_failure(error.__cause__)
    return False

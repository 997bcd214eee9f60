"""Domain errors. Services raise these; one mapping per API layer turns them into
``application/problem+json`` (RFC 9457). Nothing here knows about an API framework.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


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

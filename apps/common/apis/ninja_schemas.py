"""Schemas shared by every v2 router: the problem document, for the OpenAPI spec."""

from ninja import Schema


class FieldErrorOut(Schema):
    field: str
    message: str
    code: str


class Problem(Schema):
    """An ``application/problem+json`` error (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str | None = None
    errors: list[FieldErrorOut] | None = None

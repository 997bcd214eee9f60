"""JSON responses serialised once, for the hot read endpoints.

A Ninja endpoint that returns plain data has it validated against its response schema
and then encoded with the standard library — on a product page that is most of the
response time after the query. The hot reads instead build exactly their documented
shape in the selector (their tests validate it against the schema) and return it through
:func:`json_response`: one pass of orjson, with the same value formats as every other
response: ``Decimal`` as a string, datetimes in RFC 3339 with ``Z`` for UTC and
microseconds (omitted when zero) — the form v1 (DRF) answers too (docs/api-style.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.http import HttpResponse
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder


def rfc3339(value: datetime) -> str:
    """``value`` as DRF writes it: ISO 8601 / RFC 3339, ``Z`` for UTC, microseconds."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ApiJSONEncoder(NinjaJSONEncoder):
    """Ninja's encoder with v1's datetime form (microseconds, not milliseconds)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return rfc3339(o)
        return super().default(o)


class ApiJSONRenderer(JSONRenderer):
    """The v2 renderer: every answer's values in the form ``json_bytes`` writes."""

    encoder_class = ApiJSONEncoder


_API_VALUES = ApiJSONEncoder()


def json_bytes(data: Any) -> bytes:
    """``data`` as JSON, values formatted as by :class:`ApiJSONEncoder`."""
    return orjson.dumps(data, default=_API_VALUES.default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    """An ``application/json`` response of ``data`` (see :func:`json_bytes`)."""
    return HttpResponse(json_bytes(data), status=status, content_type="application/json")

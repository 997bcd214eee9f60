"""JSON responses serialised once, for the hot read endpoints.

A Ninja endpoint that returns plain data has it validated against its response schema
and then encoded with the standard library — on a product page that is most of the
response time after the query. The hot reads instead build exactly their documented
shape in the selector (their tests validate it against the schema) and return it through
:func:`json_response`: one pass of orjson, with the same value formats as every other
response (Django's JSON encoder rules: ``Decimal`` as a string, datetimes in ECMA-262
form with milliseconds and ``Z`` for UTC).
"""

from __future__ import annotations

from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

_DJANGO_VALUES = DjangoJSONEncoder()


def json_bytes(data: Any) -> bytes:
    """``data`` as JSON, values formatted as by Django's JSON encoder."""
    return orjson.dumps(
        data, default=_DJANGO_VALUES.default, option=orjson.OPT_PASSTHROUGH_DATETIME
    )


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    """An ``application/json`` response of ``data`` (see :func:`json_bytes`)."""
    return HttpResponse(json_bytes(data), status=status, content_type="application/json")

"""The v2 body parser: a request body is one JSON object.

Ninja reads any JSON value and lets a schema whose fields are all optional accept
``null``, a list or a number as "no fields" (it reads attributes off whatever it got),
so ``PATCH /auth/me/`` with ``[]`` would answer 200. Every v2 body is an object: anything
else is refused (400 ``malformed_request``) before a schema sees it.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        document = json.loads(request.body)
        if not isinstance(document, dict):
            raise ValueError("The request body must be a JSON object.")
        return document

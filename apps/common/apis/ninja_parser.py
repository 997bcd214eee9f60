"""The v2 body parser: a request body is one JSON object.

Ninja reads any JSON value and lets a schema whose fields are all optional accept
``null``, a list or a number as "no fields" (it reads attributes off whatever it got),
so ``PATCH /auth/me/`` with ``[]`` would answer 200. Every v2 body is an object: anything
else is refused (400 ``malformed_request``) before a schema sees it.

A body in another media type (a form, XML) is 415 ``unsupported_media_type``, as on v1:
the parser raises :class:`UnsupportedMediaType`, which Ninja wraps in its 400 and
``apps.common.apis.ninja_errors`` answers as the 415 it is. So is a body without a
``Content-Type`` (as on v1: the client must say what it sends).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser


class UnsupportedMediaType(ValueError):
    def __init__(self, media_type: str) -> None:
        super().__init__(f'Unsupported media type "{media_type}" in request.')
        self.media_type = media_type


def is_json(media_type: str) -> bool:
    media_type = media_type.strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


class JsonObjectParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # An empty body says nothing about its type: it goes on to be refused as
        # not a JSON object (400), whatever the header.
        if request.body and not is_json(request.content_type or ""):
            raise UnsupportedMediaType(request.META.get("CONTENT_TYPE", ""))
        document = json.loads(request.body)
        if not isinstance(document, dict):
            raise ValueError("The request body must be a JSON object.")
        return document

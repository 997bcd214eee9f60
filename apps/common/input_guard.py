"""Hostile input refused at the edge of both API layers, before any view parses it.

PostgreSQL cannot store a NUL character or a lone UTF-16 surrogate, Python's JSON parser
recurses once per nesting level, and a 64-bit column cannot hold a larger integer: left to
the views, each of these reaches the database or the parser and answers 500.
:func:`find_in_request` looks at every input of a request once and names the first
offending field:

- a NUL or other control character (except tab, line feed and carriage return) in a
  query parameter's name or value, a path parameter, a header value, a JSON string or
  key, or a form-encoded field; a lone surrogate in a JSON string;
- an integer outside the signed 64-bit range: a JSON number, or a query or path value
  made of digits only;
- a JSON number that is not finite (``NaN``, ``Infinity``, ``1e400``);
- JSON nested deeper than ``MAX_JSON_DEPTH`` (or too deep to parse at all).

A body is read as JSON whatever its ``Content-Type`` says (the v2 layer parses it as JSON
either way); a ``application/x-www-form-urlencoded`` body that is not JSON is checked field
by field. Provider webhooks are signed text stored as sent, so only what the database
cannot store (NUL, lone surrogates, non-finite numbers) and what the parser cannot read
(nesting) is refused there; their endpoint checks the signature.

Lengths and ranges tighter than these belong to each endpoint's schema
(``apps.common.limits``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from apps.common.errors import FieldError

MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What the database cannot store, refused even in signed webhook bodies.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_INTEGER = re.compile(r"[+-]?\d+")
# A path worth resolving to name its parameter: a control character, or 19+ digits in a row.
_SUSPECT_PATH = re.compile(r"[\x00-\x1f\x7f]|\d{19}")
_NOT_JSON = object()


def _bad_text(field: str) -> FieldError:
    return FieldError(
        field, "Must not contain NUL or other control characters.", "invalid_characters"
    )


def _out_of_range(field: str) -> FieldError:
    return FieldError(field, "Out of range.", "out_of_range")


def _beyond_int64(text: str) -> bool:
    # 19 digits is the shortest string that can leave the range: skip the parse below it.
    if len(text) < 19 or not _INTEGER.fullmatch(text):
        return False
    return not INT64_MIN <= int(text) <= INT64_MAX


def find_in_query(params: Iterable[tuple[str, str]]) -> FieldError | None:
    """The first query (or form) parameter with a control character in its name or value,
    or a value made of digits beyond the 64-bit range."""
    for name, value in params:
        if _CONTROL.search(name):
            return _bad_text("query")
        if _CONTROL.search(value):
            return _bad_text(name)
        if _beyond_int64(value):
            return _out_of_range(name)
    return None


def find_in_headers(headers: Iterable[tuple[bytes, bytes]]) -> FieldError | None:
    """The first header (as ASGI passes them: lower-case names, raw values) whose value
    holds a control character, named like ``Idempotency-Key``."""
    for name, value in headers:
        if _CONTROL_BYTES.search(value):
            return _bad_text("-".join(p.capitalize() for p in name.decode("latin-1").split("-")))
    return None


def path_is_suspect(path: str) -> bool:
    """Whether ``path`` may hold a hostile path parameter (a cheap test that spares the
    URL resolution of nearly every request)."""
    return _SUSPECT_PATH.search(path) is not None


def find_in_path_params(params: Mapping[str, Any]) -> FieldError | None:
    """The first path parameter (as the URL resolver captured it) with a control character,
    or an integer beyond the 64-bit range."""
    for name, value in params.items():
        if isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                return _out_of_range(name)
        elif isinstance(value, str):
            if _CONTROL.search(value):
                return _bad_text(name)
            if _beyond_int64(value):
                return _out_of_range(name)
    return None


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _NOT_JSON


def find_in_json(body: bytes, *, webhook: bool = False) -> FieldError | None:
    """The first hostile value of a JSON ``body`` (dotted path, ``body`` for the whole);
    ``None`` for a clean document or one that is not JSON (the API answers that itself).
    ``webhook`` refuses only what cannot be stored or parsed (see the module docstring)."""
    try:
        document = _parse(body)
    except RecursionError:
        return FieldError("body", f"Nested deeper than {MAX_JSON_DEPTH} levels.", "too_deep")
    if document is _NOT_JSON:
        return None
    return _find_in_document(document, webhook=webhook)


def _find_in_document(document: Any, *, webhook: bool) -> FieldError | None:
    bad_text = _UNSTORABLE if webhook else _BAD_TEXT
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return FieldError("body", f"Nested deeper than {MAX_JSON_DEPTH} levels.", "too_deep")
        if isinstance(value, str):
            if bad_text.search(value):
                return _bad_text(path or "body")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, float):
            if not math.isfinite(value):
                return FieldError(path or "body", "Must be a finite number.", "invalid_number")
        elif isinstance(value, int):
            if not webhook and not INT64_MIN <= value <= INT64_MAX:
                return _out_of_range(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                if bad_text.search(key):
                    return _bad_text(path or "body")
                stack.append((f"{path}.{key}" if path else str(key), item, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), item, depth + 1))
    return None


def find_in_body(body: bytes, *, content_type: str, webhook: bool = False) -> FieldError | None:
    """The first hostile value of a request body: JSON whatever the declared type; a form
    field of a form-encoded body that is not JSON. Other bodies (multipart, binary) are
    left to the API layers, which accept none of them."""
    if not body:
        return None
    try:
        document = _parse(body)
    except RecursionError:
        return FieldError("body", f"Nested deeper than {MAX_JSON_DEPTH} levels.", "too_deep")
    if document is not _NOT_JSON:
        return _find_in_document(document, webhook=webhook)
    if content_type == "application/x-www-form-urlencoded" and not webhook:
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return None
        return find_in_query(fields)
    return None


def find_in_request(
    *,
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[bytes, bytes]],
    path: str,
    path_params: Callable[[str], Mapping[str, Any] | None],
    body: Callable[[], bytes],
    content_type: str,
    webhook: bool,
) -> FieldError | None:
    """The first hostile input of a request: query, headers, path parameters (resolved
    through ``path_params`` only when the path looks suspect), then the body."""
    found = find_in_query(query) or find_in_headers(headers)
    if found is None and path_is_suspect(path):
        params = path_params(path)
        found = find_in_path_params(params) if params else None
    if found is None:
        found = find_in_body(body(), content_type=content_type, webhook=webhook)
    return found

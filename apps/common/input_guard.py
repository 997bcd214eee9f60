"""Hostile input refused at the edge of both API layers, before any view parses it.

PostgreSQL cannot store a NUL character, Python's JSON parser recurses once per nesting
level, and a 64-bit column cannot hold a larger integer: left to the views, each of these
reaches the database or the parser and answers 500. :func:`find_hostile_input` looks at
the query string and a JSON body once and names the first offending field:

- a NUL or other control character (except tab, line feed and carriage return) in a
  query parameter's name or value, or in a JSON string or key;
- a JSON integer outside the signed 64-bit range;
- JSON nested deeper than ``MAX_JSON_DEPTH`` (or too deep to parse at all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from apps.common.errors import FieldError

MAX_JSON_DEPTH = 32
_INT64 = (-(2**63), 2**63 - 1)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _bad_text(field: str) -> FieldError:
    return FieldError(
        field, "Must not contain NUL or other control characters.", "invalid_characters"
    )


def find_in_query(params: Iterable[tuple[str, str]]) -> FieldError | None:
    """The first query parameter with a control character in its name or value."""
    for name, value in params:
        if _CONTROL.search(name) or _CONTROL.search(value):
            return _bad_text(name if not _CONTROL.search(name) else "query")
    return None


def find_in_json(body: bytes) -> FieldError | None:
    """The first hostile value of a JSON ``body`` (dotted path, ``body`` for the whole);
    ``None`` for a clean document or one that is not JSON (the API answers that itself)."""
    try:
        document = json.loads(body)
    except RecursionError:
        return FieldError("body", f"Nested deeper than {MAX_JSON_DEPTH} levels.", "too_deep")
    except ValueError:
        return None
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return FieldError("body", f"Nested deeper than {MAX_JSON_DEPTH} levels.", "too_deep")
        if isinstance(value, str):
            if _CONTROL.search(value):
                return _bad_text(path or "body")
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not _INT64[0] <= value <= _INT64[1]:
                return FieldError(path or "body", "Out of range.", "out_of_range")
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else str(key)
                if _CONTROL.search(key):
                    return _bad_text(path or "body")
                stack.append((child, item, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), item, depth + 1))
    return None

"""Checking a response body against the schema the OpenAPI document declares for it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return None


def assert_matches_schema(schema: type[BaseModel] | Any, body: Any) -> None:
    """``body`` validates against ``schema`` (a model, or e.g. ``list[Model]``) and has
    exactly its fields at every level — no missing and no undeclared keys."""
    from pydantic import TypeAdapter

    adapter = TypeAdapter(schema)
    declared = adapter.dump_python(adapter.validate_python(body), by_alias=True)
    assert _shape(body) == _shape(declared)

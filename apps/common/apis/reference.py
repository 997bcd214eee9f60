"""The operations index of ``docs/api.md``, written from the two OpenAPI documents so
that the manual cannot drift from the code: ``python manage.py api_reference`` rewrites
it, and ``apps/common/tests/test_docs.py`` fails while it is out of date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from apps.common.apis.openapi import METHODS, operations

START = "<!-- operations index: written by `python manage.py api_reference` -->"
END = "<!-- end of the operations index -->"
LAYERS = {
    "v1": "v1 — vendors and staff (DRF, `/api/v1/`)",
    "v2": "v2 — customers (Django Ninja, `/api/v2/`)",
}


def api_documents() -> dict[str, dict[str, Any]]:
    """Both OpenAPI documents, as ``/api/v1/schema/`` and ``/api/v2/openapi.json`` serve
    them."""
    from drf_spectacular.generators import SchemaGenerator

    from config.ninja_api import api

    v1 = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    return {"v1": v1, "v2": dict(api.get_openapi_schema())}


def operations_index(documents: dict[str, dict[str, Any]]) -> str:
    """One table per layer and tag: operation id, method and path, summary."""
    lines: list[str] = []
    for layer, title in LAYERS.items():
        lines += [f"### {title}", ""]
        by_tag: dict[str, list[tuple[str, int, str]]] = {}
        for path, method, operation in operations(documents[layer]):
            tag = (operation.get("tags") or ["other"])[0]
            summary = " ".join(str(operation.get("summary", "")).split())
            row = (
                f"| `{operation.get('operationId', '')}` | `{method.upper()} {path}` | {summary} |"
            )
            by_tag.setdefault(tag, []).append((path, METHODS.index(method), row))
        for tag in sorted(by_tag):
            lines += [f"**{tag}**", "", "| operation | request | what |", "|---|---|---|"]
            lines += [row for _path, _method, row in sorted(by_tag[tag])]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def manual_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "api.md"


def manual_with_index(manual: str, index: str) -> str:
    """``manual`` with the text between the index markers replaced by ``index``."""
    head, found, rest = manual.partition(START)
    if not found or END not in rest:
        raise ValueError(f"docs/api.md lacks the markers {START!r} … {END!r}")
    return f"{head}{START}\n\n{index}\n{END}{rest.split(END, 1)[1]}"

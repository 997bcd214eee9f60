"""OpenAPI schema generation for the v1 API.

Views declare their serializers nested (``StockAdjustApi.InputSerializer``), so the plain
class names repeat across views; components are named after their view instead
(``StockAdjustInput``).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def _get_serializer_name(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> str:
        name = str(super()._get_serializer_name(serializer, direction, bypass_extensions))
        owner, _, _ = type(serializer).__qualname__.rpartition(".")
        if not owner:
            return name
        prefix = owner.replace(".", "").removesuffix("Api")
        if name.startswith("Patched"):
            return "Patched" + prefix + name.removeprefix("Patched")
        return prefix + name

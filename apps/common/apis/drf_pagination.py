"""Offset paging for v1 lists, its two query parameters validated like any other input."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from apps.common.limits import MAX_OFFSET


class PageQuerySerializer(serializers.Serializer):
    """``limit`` and ``offset``: for a view's ``extend_schema(parameters=[...])``."""

    limit = serializers.IntegerField(
        min_value=1, required=False, help_text="Page size; above 100 gives 100."
    )
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False)


class LimitOffsetPage(LimitOffsetPagination):
    """DRF's limit/offset paging, except that a ``limit`` or ``offset`` that is not a
    whole number in range is a 422 naming it (DRF would fall back to the default)."""

    default_limit = 50
    max_limit = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

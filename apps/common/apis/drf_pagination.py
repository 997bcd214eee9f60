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
        min_value=1,
        required=False,
        help_text="Page size, default 50; above 100 gives 100 (the maximum).",
    )
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False)


_PAGES: dict[type[serializers.Serializer], type[serializers.Serializer]] = {}


def paginated(item: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The serializer of one page of ``item``s as ``LimitOffsetPage`` answers it —
    ``{count, next, previous, results}`` — for a list view's ``extend_schema(responses=)``.
    One class per item (named ``Paginated<Item>List``), so the document names it once."""
    if item not in _PAGES:
        name = item.__name__.removesuffix("Serializer").removesuffix("Output")
        _PAGES[item] = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "__module__": __name__,
                "__doc__": f"One page of {name} items, newest first.",
                "count": serializers.IntegerField(help_text="Items in all pages."),
                "next": serializers.URLField(
                    allow_null=True, help_text="The next page; null on the last page."
                ),
                "previous": serializers.URLField(
                    allow_null=True, help_text="The previous page; null on the first page."
                ),
                "results": item(many=True),
            },
        )
    return _PAGES[item]


class LimitOffsetPage(LimitOffsetPagination):
    """DRF's limit/offset paging, except that a ``limit`` or ``offset`` that is not a
    whole number in range is a 422 naming it (DRF would fall back to the default)."""

    default_limit = 50
    max_limit = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

"""v1: a vendor's own store, and staff approval of stores."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.vendors.apis.permissions import IsMarketplaceStaff, IsVendor
from apps.vendors.selectors import store_get_for_owner
from apps.vendors.services import store_approve, store_update


class StoreOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    commission_rate = serializers.DecimalField(max_digits=5, decimal_places=2)
    approved_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class VendorStoreApi(APIView):
    """The signed-in vendor's store: read it, or change its name and description."""

    permission_classes = [IsVendor]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=120, required=False)
        description = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    OutputSerializer = StoreOutputSerializer

    @extend_schema(responses=StoreOutputSerializer, summary="The vendor's store")
    def get(self, request: Request) -> Response:
        store = store_get_for_owner(user=request.user)
        return Response(self.OutputSerializer(store).data)

    @extend_schema(
        request=InputSerializer, responses=StoreOutputSerializer, summary="Update the store"
    )
    def patch(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        store = store_update(store=store_get_for_owner(user=request.user), data=data)
        return Response(self.OutputSerializer(store).data)


class StaffStoreApproveApi(APIView):
    """Staff approve a store: its active products become visible in the catalogue."""

    permission_classes = [IsMarketplaceStaff]
    OutputSerializer = StoreOutputSerializer

    @extend_schema(request=None, responses=StoreOutputSerializer, summary="Approve a store")
    def post(self, request: Request, store_id: int) -> Response:
        store = store_approve(store_id=store_id, actor=request.user)  # type: ignore[arg-type]
        return Response(self.OutputSerializer(store).data)

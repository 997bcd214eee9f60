"""v1: vendors (and staff) manage products with nested variants."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog.models import SIZES, Product, Variant
from apps.catalog.selectors import product_get_for_user, products_for_user
from apps.catalog.services import (
    product_create,
    product_deactivate,
    product_rule_errors,
    product_update,
)
from apps.common.apis.drf_errors import flatten_errors
from apps.common.apis.drf_pagination import LimitOffsetPage, PageQuerySerializer, paginated
from apps.common.errors import NotFound, ValidationFailed
from apps.common.limits import MAX_ID
from apps.vendors.apis.permissions import IsVendorOrStaff
from apps.vendors.selectors import store_get, store_get_for_owner

MAX_VARIANTS = 100
MIN_PRICE = Decimal("0.01")


class VariantInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    sku = serializers.CharField(max_length=64)
    size = serializers.ChoiceField(choices=SIZES)
    colour = serializers.CharField(max_length=40)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=MIN_PRICE)
    compare_at_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=MIN_PRICE, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)
    stock = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, help_text="Initial units on hand."
    )


class VariantOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    size = serializers.CharField()
    colour = serializers.CharField(source="colour.name")
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    is_active = serializers.BooleanField()
    on_hand = serializers.SerializerMethodField()
    reserved = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    def _stock(self, variant: Variant) -> tuple[int, int]:
        stock = getattr(variant, "stock", None)
        return (stock.on_hand, stock.reserved) if stock is not None else (0, 0)

    def get_on_hand(self, variant: Variant) -> int:
        return self._stock(variant)[0]

    def get_reserved(self, variant: Variant) -> int:
        return self._stock(variant)[1]

    def get_available(self, variant: Variant) -> int:
        on_hand, reserved = self._stock(variant)
        return on_hand - reserved


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    brand = serializers.CharField()
    store_id = serializers.IntegerField()
    category_id = serializers.IntegerField()
    images = serializers.ListField(child=serializers.CharField())
    is_active = serializers.BooleanField()
    price_from = serializers.DecimalField(
        source="min_price",
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="The lowest price of its active variants (the name v2 uses too).",
    )
    min_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="Deprecated: the same as price_from, sent until v1.1.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    variants = VariantOutputSerializer(many=True, source="variants.all")


def _valid_input(
    serializer: serializers.Serializer, *, product: Product | None = None
) -> dict[str, Any]:
    """The serializer's data; when the format is wrong, one 422 that also lists the
    marketplace's rules the input breaks (duplicate SKU, unknown colour, compare-at
    price), so a client fixes every field in one round trip."""
    if serializer.is_valid():
        return dict(serializer.validated_data)
    errors = flatten_errors(serializer.errors)
    reported = {error.field for error in errors}
    raw = serializer.initial_data if isinstance(serializer.initial_data, Mapping) else {}
    errors += [
        error
        for error in product_rule_errors(data=raw, product=product)
        if error.field not in reported
    ]
    raise ValidationFailed(
        "; ".join(f"{error.field}: {error.message}" for error in errors[:5]),
        field_errors=errors,
    )


def _reload(user: Any, product: Product) -> Product:
    return product_get_for_user(user=user, product_id=product.pk)


class VendorProductListApi(APIView):
    """A vendor's products (staff: every store's), and adding a product."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
        brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
        category_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        images = serializers.ListField(
            child=serializers.URLField(max_length=500), max_length=10, required=False
        )
        is_active = serializers.BooleanField(required=False, default=True)
        store_id = serializers.IntegerField(
            min_value=1,
            max_value=MAX_ID,
            required=False,
            help_text="Staff only: the store to add the product to (vendors: their own).",
        )
        variants = serializers.ListField(child=VariantInputSerializer(), max_length=MAX_VARIANTS)

        def validate_variants(self, variants: list[dict[str, Any]]) -> list[dict[str, Any]]:
            if not variants:
                raise serializers.ValidationError("A product needs at least one variant.")
            return variants

    OutputSerializer = ProductOutputSerializer

    @extend_schema(
        parameters=[PageQuerySerializer],
        responses=paginated(ProductOutputSerializer),
        operation_id="vendor_products_list",
        summary="List products",
    )
    def get(self, request: Request) -> Response:
        paginator = LimitOffsetPage()
        products = products_for_user(user=request.user).order_by("-created_at", "-id")
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer, responses={201: ProductOutputSerializer}, summary="Add a product"
    )
    def post(self, request: Request) -> Response:
        data = _valid_input(self.InputSerializer(data=request.data))
        store_id = data.pop("store_id", None)
        user: Any = request.user
        if user.is_marketplace_staff:
            if store_id is None:
                raise ValidationFailed.for_field(
                    "store_id", "Staff must name the store.", "required"
                )
            try:
                store = store_get(store_id=store_id)
            except NotFound as error:
                raise ValidationFailed.for_field(
                    "store_id", "Unknown store.", "unknown_store"
                ) from error
        else:
            store = store_get_for_owner(user=user)
        data["variants"] = [dict(v) for v in data.get("variants", [])]
        product = product_create(actor=user, store=store, **data)
        return Response(
            self.OutputSerializer(_reload(user, product)).data, status=status.HTTP_201_CREATED
        )


class VendorProductDetailApi(APIView):
    """One product of the vendor's store (staff: any): read, change, deactivate."""

    permission_classes = [IsVendorOrStaff]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
        brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
        category_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
        images = serializers.ListField(
            child=serializers.URLField(max_length=500), max_length=10, required=False
        )
        is_active = serializers.BooleanField(required=False)
        variants = serializers.ListField(
            child=VariantInputSerializer(), max_length=MAX_VARIANTS, required=False
        )

    OutputSerializer = ProductOutputSerializer

    @extend_schema(responses=ProductOutputSerializer, summary="A product")
    def get(self, request: Request, product_id: int) -> Response:
        product = product_get_for_user(user=request.user, product_id=product_id)
        return Response(self.OutputSerializer(product).data)

    @extend_schema(
        request=InputSerializer, responses=ProductOutputSerializer, summary="Change a product"
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = product_get_for_user(user=request.user, product_id=product_id)
        data = _valid_input(self.InputSerializer(data=request.data, partial=True), product=product)
        if "variants" in data:
            # Only the keys the client sent: absent keys leave the variant unchanged.
            data["variants"] = [dict(v) for v in data["variants"]]
        user: Any = request.user
        product = product_update(actor=user, product=product, data=data)
        return Response(self.OutputSerializer(_reload(user, product)).data)

    @extend_schema(request=None, responses={204: None}, summary="Take a product off sale")
    def delete(self, request: Request, product_id: int) -> Response:
        product = product_get_for_user(user=request.user, product_id=product_id)
        product_deactivate(actor=request.user, product=product)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

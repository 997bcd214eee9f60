from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from apps.catalog.models import Category, Colour, Product, Variant
from apps.catalog.services import product_after_admin_edit


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ("name", "slug", "parent", "position")
    list_filter = ("parent",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Colour)
class ColourAdmin(admin.ModelAdmin[Colour]):
    list_display = ("name", "hex_code")
    search_fields = ("name",)


class VariantInline(admin.TabularInline[Variant, Product]):
    model = Variant
    extra = 0
    fields = (
        "sku",
        "size",
        "colour",
        "price",
        "compare_at_price",
        "currency",
        "is_active",
        "on_hand",
        "reserved",
    )
    readonly_fields = ("on_hand", "reserved")
    show_change_link = True

    @admin.display(description="on hand")
    def on_hand(self, variant: Variant) -> int:
        stock = getattr(variant, "stock", None)
        return stock.on_hand if stock is not None else 0

    @admin.display(description="reserved")
    def reserved(self, variant: Variant) -> int:
        stock = getattr(variant, "stock", None)
        return stock.reserved if stock is not None else 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        return super().get_queryset(request).select_related("stock", "colour")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ("name", "store", "category", "brand", "min_price", "is_active", "created_at")
    list_filter = ("is_active", "store__status", "category")
    search_fields = ("name", "brand", "store__name", "variants__sku")
    list_select_related = ("store", "category")
    readonly_fields = ("min_price", "created_at", "updated_at")
    raw_id_fields = ("store",)
    inlines = (VariantInline,)

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[Product],
        formsets: list[BaseInlineFormSet[Any, Product, Any]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        # New variants need a stock row; prices may have changed the lowest price.
        product_after_admin_edit(product=form.instance)

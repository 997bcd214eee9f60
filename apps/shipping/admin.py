"""Shipping in the admin: methods (the marketplace's defaults and the stores') and
carriers are edited here; shipments are read-only, and staff correct a shipment's status
with a reason that goes into its history (the order's status follows)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.admin_actions import ReadOnlyAdmin, ReasonForm, apply_each, form_or_page
from apps.common.errors import ValidationFailed
from apps.shipping.models import Carrier, Shipment, ShipmentChange, ShipmentStatus, ShippingMethod
from apps.shipping.services import shipment_correct
from apps.shipping.services.methods import clean_method


class ShippingMethodForm(forms.ModelForm[ShippingMethod]):
    class Meta:
        model = ShippingMethod
        fields = (
            "store",
            "name",
            "price",
            "currency",
            "free_above",
            "min_days",
            "max_days",
            "countries",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            clean = clean_method(data)
        except ValidationFailed as error:
            for problem in error.field_errors:
                field = problem.field if problem.field in self.fields else None
                self.add_error(field, problem.message)
            return data
        return data | clean


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin[ShippingMethod]):
    form = ShippingMethodForm
    list_display = (
        "name",
        "store",
        "price",
        "currency",
        "free_above",
        "min_days",
        "max_days",
        "is_active",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("name", "store__name")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin[Carrier]):
    list_display = ("name", "tracking_url_template")
    search_fields = ("name",)


class ShipmentChangeInline(admin.TabularInline[ShipmentChange, Shipment]):
    model = ShipmentChange
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "source", "actor", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CorrectionForm(ReasonForm):
    status = forms.ChoiceField(choices=ShipmentStatus.choices)


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin[Shipment]):
    list_display = (
        "id",
        "order",
        "store",
        "status",
        "carrier",
        "tracking_number",
        "shipping_amount",
        "shipped_at",
        "delivered_at",
    )
    list_filter = ("status", "delivery_confirmed_by")
    search_fields = ("order__order_number", "store__name", "tracking_number")
    list_select_related = ("order", "store")
    inlines = (ShipmentChangeInline,)
    actions = ("correct_status",)

    @admin.action(description="Correct the status (with a reason)")
    def correct_status(
        self, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> TemplateResponse | None:
        form = form_or_page(self, request, queryset, CorrectionForm, "Correct the status")
        if isinstance(form, TemplateResponse):
            return form
        for shipment in queryset:
            apply_each(
                self,
                request,
                str(shipment),
                lambda shipment=shipment: shipment_correct(
                    shipment_id=shipment.pk,
                    to=form.cleaned_data["status"],
                    actor=request.user,  # type: ignore[arg-type]
                    reason=form.cleaned_data["reason"],
                ),
            )
        return None

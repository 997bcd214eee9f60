"""Returns in the admin: policies are edited here; requests are read-only, and staff
approve or reject escalated ones for the store (a rejection with its reason)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.admin_actions import ReadOnlyAdmin, ReasonForm, apply_each, form_or_page
from apps.returns.models import ReturnLine, ReturnPolicy, ReturnRequest
from apps.returns.services import return_approve, return_reject


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin[ReturnPolicy]):
    list_display = ("store", "window_days", "refund_shipping")
    search_fields = ("store__name",)
    autocomplete_fields = ("store",)


class ReturnLineInline(admin.TabularInline[ReturnLine, ReturnRequest]):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = (
        "order_line",
        "quantity",
        "reason",
        "note",
        "exchange_variant",
        "received_sellable",
        "received_damaged",
        "refund_amount",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(ReadOnlyAdmin[ReturnRequest]):
    list_display = ("id", "order", "store", "status", "escalated_at", "refund_amount", "created_at")
    list_filter = ("status", ("escalated_at", admin.EmptyFieldListFilter))
    search_fields = ("order__order_number", "store__name", "customer__email")
    list_select_related = ("order", "store")
    inlines = (ReturnLineInline,)
    actions = ("approve", "reject")

    @admin.action(description="Approve for the store")
    def approve(self, request: HttpRequest, queryset: QuerySet[ReturnRequest]) -> None:
        for item in queryset:
            apply_each(
                self,
                request,
                str(item),
                lambda item=item: return_approve(return_id=item.pk, store=None),
            )

    @admin.action(description="Reject for the store (with a reason)")
    def reject(
        self, request: HttpRequest, queryset: QuerySet[ReturnRequest]
    ) -> TemplateResponse | None:
        form = form_or_page(self, request, queryset, ReasonForm, "Reject the returns")
        if isinstance(form, TemplateResponse):
            return form
        for item in queryset:
            apply_each(
                self,
                request,
                str(item),
                lambda item=item: return_reject(
                    return_id=item.pk, store=None, reason=form.cleaned_data["reason"]
                ),
            )
        return None

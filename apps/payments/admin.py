"""Payments in the admin: read-only records; refunds go through the refund service
(the v1 endpoint, or the action here for payments flagged for refund)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.common.errors import ApplicationError
from apps.payments.models import Payment, Refund, WebhookEvent
from apps.payments.services import payment_refund


class RefundInline(admin.TabularInline[Refund, Payment]):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("created_at", "amount", "status", "provider_refund_id", "reason", "actor")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin[Payment]):
    list_display = (
        "reference",
        "order",
        "provider",
        "status",
        "amount",
        "currency",
        "refunded_amount",
        "needs_refund",
        "created_at",
    )
    list_filter = ("provider", "status", "needs_refund")
    search_fields = ("reference", "provider_payment_id", "order__order_number")
    list_select_related = ("order",)
    inlines = (RefundInline,)
    actions = ("refund_in_full",)
    exclude = ("client_secret",)
    readonly_fields = [f.name for f in Payment._meta.fields if f.name != "client_secret"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Payment | None = None) -> bool:
        return False

    @admin.action(description="Refund in full through the provider")
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        for payment in queryset:
            try:
                payment_refund(
                    payment_id=payment.pk,
                    amount=None,
                    reason="staff (admin)",
                    actor=request.user,  # type: ignore[arg-type]
                )
                self.message_user(request, f"{payment}: refunded.", messages.SUCCESS)
            except ApplicationError as error:
                self.message_user(request, f"{payment}: {error.message}", messages.WARNING)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin[WebhookEvent]):
    list_display = ("received_at", "provider", "raw_type", "event_id", "payment")
    list_filter = ("provider", "kind")
    search_fields = ("event_id", "reference")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return False

"""Payments in the admin: read-only records; refunds go through the refund service
(the v1 endpoint, or the action here for payments flagged for refund). A pending refund
(its provider call had no definite answer) is asked about again from the refund list,
with its own idempotency key: never a second refund."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.common.errors import ApplicationError
from apps.payments.models import Payment, Refund, RefundStatus, WebhookEvent
from apps.payments.services import payment_refund, refund_retry


class RefundInline(admin.TabularInline[Refund, Payment]):
    model = Refund
    extra = 0
    can_delete = False
    fields = (
        "created_at",
        "amount",
        "status",
        "provider_refund_id",
        "attempts",
        "last_error",
        "reason",
        "actor",
    )
    readonly_fields = fields
    show_change_link = True

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
                refund = payment_refund(
                    payment_id=payment.pk,
                    amount=None,
                    reason="staff (admin)",
                    actor=request.user,  # type: ignore[arg-type]
                )
                _report(self, request, f"{payment}", refund)
            except ApplicationError as error:
                self.message_user(request, f"{payment}: {error.message}", messages.WARNING)


def _report(
    model_admin: admin.ModelAdmin[Payment] | admin.ModelAdmin[Refund],
    request: HttpRequest,
    label: str,
    refund: Refund,
) -> None:
    if refund.status == RefundStatus.SUCCEEDED:
        model_admin.message_user(request, f"{label}: refunded.", messages.SUCCESS)
    else:
        model_admin.message_user(
            request,
            f"{label}: the provider gave no definite answer; the refund is pending and its "
            "amount stays reserved. It is settled automatically, or retry it from the "
            "refund list in a minute.",
            messages.WARNING,
        )


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin[Refund]):
    list_display = (
        "created_at",
        "payment",
        "amount",
        "status",
        "attempts",
        "next_attempt_at",
        "provider_refund_id",
        "actor",
    )
    list_filter = ("status", "payment__provider")
    search_fields = ("payment__reference", "provider_refund_id", "idempotency_key")
    list_select_related = ("payment", "actor")
    readonly_fields = [f.name for f in Refund._meta.fields]
    actions = ("retry_with_provider",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Refund | None = None) -> bool:
        return False

    @admin.action(description="Ask the provider again (pending refunds; same key, never twice)")
    def retry_with_provider(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        for refund in queryset.order_by("id"):
            label = f"refund {refund.pk}"
            try:
                retried = refund_retry(
                    refund_id=refund.pk,
                    actor=request.user,  # type: ignore[arg-type]
                )
                _report(self, request, label, retried)
            except ApplicationError as error:
                self.message_user(request, f"{label}: {error.message}", messages.WARNING)


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

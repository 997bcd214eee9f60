"""Orders in the admin: read-only records with their lines and the stock movements they
caused; status changes go through the lifecycle services (actions)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from apps.common.errors import ApplicationError
from apps.inventory.models import StockMovement
from apps.orders.models import Order, OrderLine
from apps.orders.services import order_cancel, order_mark_delivered
from apps.payments.models import Payment


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = (
        "product_name",
        "sku",
        "size",
        "colour",
        "unit_price",
        "quantity",
        "line_total",
        "store",
        "fulfilled_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class PaymentInline(admin.TabularInline[Payment, Order]):
    model = Payment
    extra = 0
    can_delete = False
    fields = (
        "reference",
        "provider",
        "status",
        "amount",
        "refunded_amount",
        "needs_refund",
        "created_at",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = (
        "order_number",
        "customer",
        "status",
        "total_amount",
        "currency",
        "created_at",
        "reserved_until",
    )
    list_filter = ("status", "created_at")
    search_fields = ("order_number", "customer__email")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, PaymentInline)
    actions = ("cancel_unpaid", "mark_delivered")
    readonly_fields = (
        "order_number",
        "customer",
        "status",
        "currency",
        "total_amount",
        "delivery_address",
        "customer_notes",
        "reserved_until",
        "paid_at",
        "fulfilled_at",
        "delivered_at",
        "cancelled_at",
        "cancel_reason",
        "refunded_at",
        "created_at",
        "updated_at",
        "stock_movements",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    @admin.display(description="Stock movements")
    def stock_movements(self, order: Order) -> str:
        movements = StockMovement.objects.filter(order_id=order.pk).select_related("variant")
        return (
            format_html_join(
                "\n",
                # format_html escapes each argument to a string first, so the signs
                # are formatted here ("{:+d}" on an escaped string raises).
                "<div>{} · {} · {} · on hand {}, reserved {}</div>",
                (
                    (
                        m.created_at.strftime("%Y-%m-%d %H:%M"),
                        m.variant.sku,
                        m.get_reason_display(),
                        f"{m.on_hand_delta:+d}",
                        f"{m.reserved_delta:+d}",
                    )
                    for m in movements
                ),
            )
            or "—"
        )

    def _apply(self, request: HttpRequest, queryset: QuerySet[Order], action: str) -> None:
        done = 0
        for order in queryset:
            try:
                if action == "cancel":
                    order_cancel(order_id=order.pk, reason="staff", actor=request.user)  # type: ignore[arg-type]
                else:
                    order_mark_delivered(order_id=order.pk, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{order}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} order(s) updated.", messages.SUCCESS)

    @admin.action(description="Cancel (unpaid orders; releases stock)")
    def cancel_unpaid(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "cancel")

    @admin.action(description="Mark delivered (fulfilled orders)")
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, "deliver")

"""Vendor money in the admin. The ledger, balances, earnings and payouts are read-only;
what staff may change goes through the services, each with a reason that is recorded
with the actor (``StaffAction``): adjust a balance, hold or release a store's payouts,
retry a failed payout. Commission rules are edited here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.admin_actions import ReadOnlyAdmin, ReasonForm
from apps.common.admin_actions import apply_each as _each
from apps.common.admin_actions import form_or_page as _with_form
from apps.payouts.models import (
    CommissionRule,
    Earning,
    LedgerEntry,
    Payout,
    PayoutDestination,
    PayoutHold,
    PayoutRun,
    StaffAction,
    StoreBalance,
)
from apps.payouts.services import (
    ledger_adjust,
    payout_retry,
    payout_settle,
    payouts_hold,
    payouts_release,
)
from apps.payouts.services.staff import MAX_ADJUSTMENT


class AdjustmentForm(ReasonForm):
    direction = forms.ChoiceField(choices=[("credit", "Credit"), ("debit", "Debit")])
    amount = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_ADJUSTMENT
    )


@admin.register(StoreBalance)
class StoreBalanceAdmin(ReadOnlyAdmin[StoreBalance]):
    list_display = ("store", "currency", "pending", "available", "debt", "paid_out", "updated_at")
    list_filter = ("currency",)
    search_fields = ("store__name", "store__slug")
    list_select_related = ("store",)
    actions = ("adjust", "hold_payouts", "release_payouts")

    @admin.action(description="Adjust the balance (credit or debit, with a reason)…")
    def adjust(self, request: HttpRequest, queryset: QuerySet[StoreBalance]) -> Any:
        form = _with_form(self, request, queryset, AdjustmentForm, "Adjust the balance")
        if isinstance(form, TemplateResponse):
            return form
        for balance in queryset:
            _each(
                self,
                request,
                str(balance),
                lambda balance=balance: ledger_adjust(
                    store_id=balance.store_id,
                    currency=balance.currency,
                    actor=request.user,  # type: ignore[arg-type]
                    **form.cleaned_data,
                ),
            )
        return None

    @admin.action(description="Hold the stores' payouts (with a reason)…")
    def hold_payouts(self, request: HttpRequest, queryset: QuerySet[StoreBalance]) -> Any:
        form = _with_form(self, request, queryset, ReasonForm, "Hold payouts")
        if isinstance(form, TemplateResponse):
            return form
        for store_id in sorted({balance.store_id for balance in queryset}):
            _each(
                self,
                request,
                f"store {store_id}",
                lambda store_id=store_id: payouts_hold(
                    store_id=store_id,
                    actor=request.user,  # type: ignore[arg-type]
                    **form.cleaned_data,
                ),
            )
        return None

    @admin.action(description="Release the stores' payouts (with a reason)…")
    def release_payouts(self, request: HttpRequest, queryset: QuerySet[StoreBalance]) -> Any:
        form = _with_form(self, request, queryset, ReasonForm, "Release payouts")
        if isinstance(form, TemplateResponse):
            return form
        for store_id in sorted({balance.store_id for balance in queryset}):
            _each(
                self,
                request,
                f"store {store_id}",
                lambda store_id=store_id: payouts_release(
                    store_id=store_id,
                    actor=request.user,  # type: ignore[arg-type]
                    **form.cleaned_data,
                ),
            )
        return None


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin[LedgerEntry]):
    list_display = (
        "id",
        "created_at",
        "store",
        "currency",
        "kind",
        "amount",
        "pending",
        "available",
        "debt",
        "paid_out",
        "key",
    )
    list_filter = ("kind", "currency")
    search_fields = ("key", "store__name", "reason")
    list_select_related = ("store",)
    date_hierarchy = "created_at"


@admin.register(Earning)
class EarningAdmin(ReadOnlyAdmin[Earning]):
    list_display = ("order", "store", "currency", "gross", "commission", "refunded_gross", "status")
    list_filter = ("status", "currency")
    search_fields = ("order__order_number", "store__name")
    list_select_related = ("order", "store")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin[Payout]):
    list_display = (
        "reference",
        "store",
        "currency",
        "amount",
        "provider",
        "status",
        "attempts",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "provider", "currency")
    search_fields = ("reference", "provider_transfer_id", "store__name")
    list_select_related = ("store",)
    actions = ("retry_failed", "ask_provider")

    @admin.action(description="Retry failed payouts (a new payout, with a reason)…")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Payout]) -> Any:
        form = _with_form(self, request, queryset, ReasonForm, "Retry failed payouts")
        if isinstance(form, TemplateResponse):
            return form
        for payout in queryset.order_by("id"):
            _each(
                self,
                request,
                payout.reference,
                lambda payout=payout: payout_retry(
                    payout_id=payout.pk,
                    actor=request.user,  # type: ignore[arg-type]
                    **form.cleaned_data,
                ),
            )
        return None

    @admin.action(description="Ask the provider how these payouts stand")
    def ask_provider(self, request: HttpRequest, queryset: QuerySet[Payout]) -> None:
        for payout in queryset.order_by("id"):
            outcome = payout_settle(payout_id=payout.pk)
            self.message_user(request, f"{payout.reference}: {outcome}.", messages.INFO)


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin[PayoutRun]):
    list_display = ("period_key", "status", "payouts_created", "created_at", "finished_at")
    list_filter = ("status",)


@admin.register(PayoutDestination)
class PayoutDestinationAdmin(ReadOnlyAdmin[PayoutDestination]):
    list_display = ("store", "provider", "account_code", "status", "is_active", "created_at")
    list_filter = ("provider", "status", "is_active")
    search_fields = ("store__name", "account_code")


@admin.register(PayoutHold)
class PayoutHoldAdmin(ReadOnlyAdmin[PayoutHold]):
    list_display = ("store", "reason", "actor", "created_at")


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin[StaffAction]):
    list_display = ("created_at", "kind", "store", "actor", "reason")
    list_filter = ("kind",)
    search_fields = ("reason", "store__name")


@admin.register(CommissionRule)
class CommissionRuleAdmin(admin.ModelAdmin[CommissionRule]):
    """Rates for a category (and below it), for one store or every store. Lines already
    sold keep the rate they were sold at."""

    list_display = ("category", "store", "rate", "updated_at")
    list_filter = ("category",)
    search_fields = ("category__name", "store__name")
    autocomplete_fields = ("store",)

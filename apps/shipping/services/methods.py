"""A store's shipping methods: what the vendor offers, validated once here for both the
API and the admin."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from apps.addresses.countries import COUNTRY_ALIASES, COUNTRY_NAMES
from apps.catalog.models import default_currency
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed
from apps.shipping.models import ShippingMethod
from apps.vendors.models import Store

MAX_METHODS_PER_STORE = 20
MAX_PRICE = Decimal("1000000")
MAX_DAYS = 120
FIELDS = ("name", "price", "free_above", "min_days", "max_days", "countries", "is_active")


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def clean_method(data: Mapping[str, Any]) -> dict[str, Any]:
    """The method's fields checked together; every bad field named at once."""
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not 1 <= len(name) <= 80:
        errors.append(FieldError("name", "Between 1 and 80 characters.", "length"))
    clean["name"] = name
    for field, optional in (("price", False), ("free_above", True)):
        raw = data.get(field)
        if raw is None and optional:
            clean[field] = None
            continue
        amount = _decimal(raw)
        if amount is None or not Decimal(0) <= amount < MAX_PRICE or amount != round(amount, 2):
            errors.append(
                FieldError(field, f"An amount from 0 to {MAX_PRICE}, in cents.", "invalid")
            )
        clean[field] = amount
    for field in ("min_days", "max_days"):
        days = data.get(field)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            errors.append(FieldError(field, f"Whole days from 0 to {MAX_DAYS}.", "invalid"))
        clean[field] = days
    if (
        isinstance(clean["min_days"], int)
        and isinstance(clean["max_days"], int)
        and clean["min_days"] > clean["max_days"]
    ):
        errors.append(FieldError("max_days", "Must not be below min_days.", "invalid_range"))
    countries = data.get("countries") or []
    if not isinstance(countries, list) or len(countries) > 60:
        errors.append(FieldError("countries", "A list of at most 60 country codes.", "invalid"))
        countries = []
    codes = [str(code).strip().upper() for code in countries]
    codes = [COUNTRY_ALIASES.get(code, code) for code in codes]
    unknown = [code for code in codes if code not in COUNTRY_NAMES]
    if unknown:
        errors.append(
            FieldError(
                "countries",
                f"Not ISO 3166-1 alpha-2 country codes: {', '.join(unknown[:5])}.",
                "invalid_choice",
            )
        )
    clean["countries"] = sorted(set(codes))
    clean["is_active"] = bool(data.get("is_active", True))
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return clean


def _own(store: Store, method_id: int) -> ShippingMethod:
    method = ShippingMethod.objects.select_for_update().filter(pk=method_id, store=store).first()
    if method is None:
        raise NotFound("Shipping method not found.", code="shipping_method_not_found")
    return method


@transaction.atomic
def shipping_method_create(*, store: Store, data: Mapping[str, Any]) -> ShippingMethod:
    clean = clean_method(data)
    Store.objects.select_for_update().filter(pk=store.pk).first()
    if ShippingMethod.objects.filter(store=store).count() >= MAX_METHODS_PER_STORE:
        raise Conflict(
            f"A store has at most {MAX_METHODS_PER_STORE} shipping methods.",
            code="too_many_shipping_methods",
        )
    return ShippingMethod.objects.create(store=store, currency=default_currency(), **clean)


@transaction.atomic
def shipping_method_update(
    *, store: Store, method_id: int, data: Mapping[str, Any]
) -> ShippingMethod:
    """A partial update: the fields given replace the method's, then all are checked."""
    method = _own(store, method_id)
    merged = {field: getattr(method, field) for field in FIELDS} | {
        field: value for field, value in data.items() if field in FIELDS
    }
    for field, value in clean_method(merged).items():
        setattr(method, field, value)
    method.save()
    return method


@transaction.atomic
def shipping_method_delete(*, store: Store, method_id: int) -> None:
    """Orders keep the name and price they were charged; the method just disappears."""
    _own(store, method_id).delete()

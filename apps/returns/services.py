"""Returns and exchanges. A customer asks to send back units of a delivered parcel
within the store's window; the store approves or rejects; the items come back; sellable
units go back on hand, the money goes back through the payment's provider (once), and
exchanges go out as a new parcel. Every change locks the order first, so two requests
for the same units, or a request and the store's decision, are applied one at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.authentication.models import User
from apps.catalog.models import Variant
from apps.common.errors import Conflict, FieldError, NotFound, ValidationFailed
from apps.common.events import publish
from apps.fit.services import fit_feedback_record
from apps.inventory.services import stock_commit, stock_release, stock_reserve, stock_return
from apps.orders.models import Order, OrderLine
from apps.payments.models import Payment, PaymentStatus
from apps.payments.services import refund_record
from apps.returns.events import ReturnClosed, ReturnDecided, ReturnReceived, ReturnRequested
from apps.returns.models import (
    OPEN_STATUSES,
    SIZE_REASONS,
    ReturnLine,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from apps.shipping.models import Shipment, ShipmentStatus
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

MAX_LINES = 100
NOTE_MAX = 500
REASON_MAX = 255


@dataclass(frozen=True)
class Policy:
    window_days: int
    refund_shipping: bool


def return_policy(store_id: int) -> Policy:
    """The store's terms, or the marketplace's (``RETURN_WINDOW_DAYS``, shipping kept)."""
    policy = ReturnPolicy.objects.filter(store_id=store_id).first()
    if policy is None:
        return Policy(int(settings.RETURN_WINDOW_DAYS), False)
    return Policy(policy.window_days, policy.refund_shipping)


def _locked_order(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _returning(order_line_ids: Sequence[int], *, exclude: int | None = None) -> dict[int, int]:
    """Units of each line in requests that still hold them."""
    rows = ReturnLine.objects.filter(
        order_line_id__in=order_line_ids, request__status__in=OPEN_STATUSES
    )
    if exclude is not None:
        rows = rows.exclude(request_id=exclude)
    totals = rows.values("order_line_id").annotate(n=Sum("quantity")).order_by()
    return {row["order_line_id"]: row["n"] for row in totals}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _clean_lines(lines: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not 1 <= len(lines) <= MAX_LINES:
        errors.append(FieldError("lines", f"Between 1 and {MAX_LINES} lines.", "length"))
    seen: set[int] = set()
    for index, line in enumerate(lines):
        line_id, quantity = _int(line.get("line_id")), _int(line.get("quantity"))
        if line_id is None or line_id <= 0:
            errors.append(FieldError(f"lines.{index}.line_id", "An order line id.", "invalid"))
        elif line_id in seen:
            errors.append(
                FieldError(f"lines.{index}.line_id", "Each line once per request.", "duplicate")
            )
        else:
            seen.add(line_id)
        if quantity is None or quantity < 1:
            errors.append(FieldError(f"lines.{index}.quantity", "At least 1.", "min_value"))
        if line.get("reason") not in ReturnReason.values:
            errors.append(
                FieldError(
                    f"lines.{index}.reason",
                    f"One of: {', '.join(ReturnReason.values)}.",
                    "invalid_choice",
                )
            )
        if len(str(line.get("note") or "")) > NOTE_MAX:
            errors.append(
                FieldError(f"lines.{index}.note", f"At most {NOTE_MAX} characters.", "max_length")
            )
        exchange = line.get("exchange_variant_id")
        if exchange is not None and (_int(exchange) is None or exchange <= 0):
            errors.append(
                FieldError(f"lines.{index}.exchange_variant_id", "A variant id.", "invalid")
            )
    return errors


def _exchange_errors(
    lines: Sequence[Mapping[str, Any]], order_lines: Mapping[int, OrderLine]
) -> tuple[list[FieldError], dict[int, Variant]]:
    """The replacements: another size or colour of the same product, for sale, and not
    dearer than what was paid (a dearer one is refused: return it and order the other)."""
    wanted = {
        line["exchange_variant_id"] for line in lines if line.get("exchange_variant_id") is not None
    }
    variants = {
        v.pk: v
        for v in Variant.objects.filter(pk__in=wanted, is_active=True, product__is_active=True)
    }
    errors = []
    for index, line in enumerate(lines):
        variant_id = line.get("exchange_variant_id")
        if variant_id is None:
            continue
        field = f"lines.{index}.exchange_variant_id"
        variant, bought = variants.get(variant_id), order_lines[line["line_id"]]
        if variant is None or variant.product_id != bought.variant.product_id:
            errors.append(FieldError(field, "Another variant of the same product.", "invalid"))
        elif variant.pk == bought.variant_id:
            errors.append(FieldError(field, "That is the variant you have.", "same_variant"))
        elif variant.price > bought.unit_price:
            errors.append(
                FieldError(
                    field,
                    f"It costs more ({variant.price}) than you paid ({bought.unit_price}): "
                    "return this one for a refund and order the other.",
                    "dearer",
                )
            )
    return errors, variants


@transaction.atomic
def return_request_create(
    *, customer_id: int, shipment_id: int, lines: Sequence[Mapping[str, Any]]
) -> ReturnRequest:
    """Ask to return units of a delivered parcel: ``lines`` of ``{line_id, quantity,
    reason, note?, exchange_variant_id?}``. Checked all at once (422 naming each bad
    field); another customer's parcel is 404; a parcel not delivered or past the store's
    window is 409. An exchange reserves its replacement now (409 when the last unit is
    gone). Size reasons count as fit feedback."""
    errors = _clean_lines(lines)
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    shipment = (
        Shipment.objects.filter(pk=shipment_id, order__customer_id=customer_id)
        .select_related("order")
        .first()
    )
    if shipment is None:
        raise NotFound("Shipment not found.", code="shipment_not_found")
    order = _locked_order(shipment.order_id)
    shipment.refresh_from_db()
    if shipment.status != ShipmentStatus.DELIVERED or shipment.delivered_at is None:
        raise Conflict(
            "Only delivered parcels can be returned.",
            code="not_delivered",
            details={"shipment_status": shipment.status},
        )
    policy = return_policy(shipment.store_id)
    closes = shipment.delivered_at + timedelta(days=policy.window_days)
    now = timezone.now()
    if now > closes:
        raise Conflict(
            f"The {policy.window_days}-day return window closed.",
            code="return_window_closed",
            details={"closed_at": closes.isoformat()},
        )
    order_lines = {
        line.pk: line
        for line in OrderLine.objects.select_related("variant").filter(
            order_id=order.pk, store_id=shipment.store_id
        )
    }
    returning = _returning(list(order_lines))
    for index, line in enumerate(lines):
        bought = order_lines.get(line["line_id"])
        if bought is None:
            errors.append(
                FieldError(f"lines.{index}.line_id", "Not a line of this parcel.", "not_found")
            )
            continue
        left = bought.quantity - returning.get(bought.pk, 0)
        if line["quantity"] > left:
            errors.append(
                FieldError(
                    f"lines.{index}.quantity",
                    f"At most {left} of this line can still be returned.",
                    "too_many",
                )
            )
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    exchange_errors, variants = _exchange_errors(lines, order_lines)
    if exchange_errors:
        raise ValidationFailed(exchange_errors[0].message, field_errors=exchange_errors)
    request = ReturnRequest.objects.create(
        order=order, shipment=shipment, store_id=shipment.store_id, customer_id=customer_id
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(
            request=request,
            order_line=order_lines[line["line_id"]],
            quantity=line["quantity"],
            reason=line["reason"],
            note=str(line.get("note") or "").strip(),
            exchange_variant=variants.get(line.get("exchange_variant_id") or 0),
        )
        for line in lines
    )
    _reserve_exchanges(request, lines)
    _fit_feedback(customer_id, lines)
    publish(ReturnRequested(return_id=request.pk))
    logger.info("return.requested", return_id=request.pk, order_id=order.pk, lines=len(lines))
    return request


def _reserve_exchanges(request: ReturnRequest, lines: Sequence[Mapping[str, Any]]) -> None:
    items = [
        (line["exchange_variant_id"], line["quantity"])
        for line in lines
        if line.get("exchange_variant_id") is not None
    ]
    try:
        stock_reserve(items=items, order_id=request.order_id)
    except Conflict as error:
        if error.code != "insufficient_stock":
            raise
        short = set(error.details.get("variant_ids", []))
        raise Conflict(
            "The size or colour you asked for is no longer in stock.",
            code="insufficient_stock",
            field_errors=[
                FieldError(
                    f"lines.{index}.exchange_variant_id",
                    "Not enough in stock.",
                    "insufficient_stock",
                )
                for index, line in enumerate(lines)
                if line.get("exchange_variant_id") in short
            ],
            details={"variant_ids": sorted(short)},
        ) from error


def _fit_feedback(customer_id: int, lines: Sequence[Mapping[str, Any]]) -> None:
    """A line returned as too small or too large says how its size fits."""
    for line in lines:
        fit = SIZE_REASONS.get(line["reason"])
        if fit is not None:
            fit_feedback_record(
                customer_id=customer_id, order_line_id=line["line_id"], fit=fit, source="return"
            )


def _exchange_items(request: ReturnRequest, *, received: bool = False) -> list[tuple[int, int]]:
    items = []
    for line in request.lines.all():
        if line.exchange_variant_id is None:
            continue
        quantity = line.received_sellable + line.received_damaged if received else line.quantity
        items.append((line.exchange_variant_id, quantity))
    return items


def _locked_request(
    return_id: int, *, store: Store | None = None, customer_id: int | None = None
) -> ReturnRequest:
    requests = ReturnRequest.objects.filter(pk=return_id)
    if store is not None:
        requests = requests.filter(store=store)
    if customer_id is not None:
        requests = requests.filter(customer_id=customer_id)
    order_id = requests.values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("Return not found.", code="return_not_found")
    _locked_order(order_id)
    return ReturnRequest.objects.select_for_update().get(pk=return_id)


def _expect(request: ReturnRequest, *statuses: ReturnStatus) -> None:
    if request.status not in statuses:
        raise Conflict(
            f"This return is {request.get_status_display().lower()}.",
            code="illegal_return_transition",
            details={"return_status": request.status},
        )


def _set(request: ReturnRequest, status: ReturnStatus, **fields: Any) -> None:
    request.status = status
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["status", "updated_at", *fields])
    logger.info("return.status_changed", return_id=request.pk, status=str(status))


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not 3 <= len(reason) <= REASON_MAX:
        raise ValidationFailed.for_field(
            "reason", f"Between 3 and {REASON_MAX} characters.", "length"
        )
    return reason


@transaction.atomic
def return_cancel(*, return_id: int, customer_id: int) -> ReturnRequest:
    """The customer withdraws a request the store has not received yet."""
    request = _locked_request(return_id, customer_id=customer_id)
    _expect(request, ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
    stock_release(items=_exchange_items(request), order_id=request.order_id)
    _set(request, ReturnStatus.CANCELLED, cancelled_at=timezone.now())
    return request


@transaction.atomic
def return_approve(*, return_id: int, store: Store | None) -> ReturnRequest:
    """The store (or staff: ``store`` None) accepts the request: the customer sends the
    items back."""
    request = _locked_request(return_id, store=store)
    _expect(request, ReturnStatus.REQUESTED)
    _set(request, ReturnStatus.APPROVED, approved_at=timezone.now())
    publish(ReturnDecided(return_id=request.pk, approved=True))
    return request


@transaction.atomic
def return_reject(*, return_id: int, store: Store | None, reason: str) -> ReturnRequest:
    """The store (or staff) refuses, saying why; the units can be asked for again and a
    reserved replacement goes back on sale."""
    reason = _clean_reason(reason)
    request = _locked_request(return_id, store=store)
    _expect(request, ReturnStatus.REQUESTED)
    stock_release(items=_exchange_items(request), order_id=request.order_id)
    _set(request, ReturnStatus.REJECTED, rejected_at=timezone.now(), decision_reason=reason)
    publish(ReturnDecided(return_id=request.pk, approved=False))
    return request


def _clean_receipt(
    request: ReturnRequest, received: Sequence[Mapping[str, Any]]
) -> dict[int, tuple[int, int]]:
    lines = {line.order_line_id: line for line in request.lines.all()}
    counts: dict[int, tuple[int, int]] = {}
    errors: list[FieldError] = []
    for index, item in enumerate(received):
        line_id = _int(item.get("line_id"))
        sellable, damaged = _int(item.get("sellable", 0)), _int(item.get("damaged", 0))
        line = lines.get(line_id or 0)
        if line is None or line_id in counts:
            errors.append(
                FieldError(f"lines.{index}.line_id", "A line of this return, once.", "invalid")
            )
            continue
        if sellable is None or damaged is None or sellable < 0 or damaged < 0:
            errors.append(
                FieldError(f"lines.{index}.sellable", "Whole units, not negative.", "invalid")
            )
            continue
        if sellable + damaged > line.quantity:
            errors.append(
                FieldError(
                    f"lines.{index}.damaged",
                    f"At most {line.quantity} units of this line were to come back.",
                    "too_many",
                )
            )
        counts[line.order_line_id] = (sellable, damaged)
    if not counts and not errors:
        errors.append(FieldError("lines", "Say what came back.", "required"))
    if errors:
        raise ValidationFailed(errors[0].message, field_errors=errors)
    return counts


def _refund_due(request: ReturnRequest, policy: Policy) -> Decimal:
    """Units returned for money at the price paid; exchanges for a cheaper variant get
    the difference; the parcel's shipping when the store's policy gives it back and the
    whole parcel came back for money."""
    total = Decimal("0.00")
    all_back = True
    for line in request.lines.select_related("order_line", "exchange_variant"):
        units = line.received_sellable + line.received_damaged
        paid = line.order_line.unit_price
        if line.exchange_variant is None:
            line.refund_amount = paid * units
        else:
            line.refund_amount = max(paid - line.exchange_variant.price, Decimal(0)) * units
            all_back = False
        line.save(update_fields=["refund_amount"])
        total += line.refund_amount
    if policy.refund_shipping and all_back:
        returned = dict(
            ReturnLine.objects.filter(
                request__shipment_id=request.shipment_id,
                request__status__in=OPEN_STATUSES,
                exchange_variant__isnull=True,
            )
            .values("order_line_id")
            .annotate(n=Sum("received_sellable") + Sum("received_damaged"))
            .values_list("order_line_id", "n")
        )
        bought = OrderLine.objects.filter(
            order_id=request.order_id, store_id=request.store_id
        ).values_list("pk", "quantity")
        if all(returned.get(pk, 0) >= quantity for pk, quantity in bought):
            total += request.shipment.shipping_amount
    return total


def _payment_of(order_id: int) -> Payment:
    payment = (
        Payment.objects.filter(
            order_id=order_id,
            status__in=[PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED],
            needs_refund=False,
        )
        .order_by("id")
        .first()
    )
    if payment is None:
        raise Conflict("The order has no payment to refund.", code="no_payment")
    return payment


@transaction.atomic
def return_receive(
    *, return_id: int, store: Store | None, lines: Sequence[Mapping[str, Any]], actor: User | None
) -> ReturnRequest:
    """The items came back: per line how many ``sellable`` (back on hand, ledger
    ``returned``) and ``damaged`` (not). The refund due is recorded with this change and
    sent after it (once, through the payment's provider; the store's ledger gives it
    back); exchanges go out as a new parcel of the store, their replacements sold."""
    request = _locked_request(return_id, store=store)
    _expect(request, ReturnStatus.APPROVED)
    counts = _clean_receipt(request, lines)
    for line in request.lines.all():
        line.received_sellable, line.received_damaged = counts.get(line.order_line_id, (0, 0))
        line.save(update_fields=["received_sellable", "received_damaged"])
    back = [
        (line.order_line.variant_id, line.received_sellable)
        for line in request.lines.select_related("order_line")
    ]
    stock_return(items=back, order_id=request.order_id, actor=actor)
    _settle_exchanges(request)
    amount = _refund_due(request, return_policy(request.store_id))
    now = timezone.now()
    refund = None
    if amount > 0:
        refund = refund_record(
            payment_id=_payment_of(request.order_id).pk,
            amount=amount,
            reason=f"Return {request.pk}",
            store_id=request.store_id,
            actor=actor,
        )
    _set(request, ReturnStatus.RECEIVED, received_at=now, refund_amount=amount, refund=refund)
    publish(ReturnReceived(return_id=request.pk, refund_id=refund.pk if refund else None))
    if refund is None:
        return_close(return_id=request.pk)
    return request


def _settle_exchanges(request: ReturnRequest) -> None:
    """Replacements of received units are sold and sent in a new parcel; those of units
    that never came back go back on sale."""
    reserved = dict(_exchange_items(request))
    sent = dict(_exchange_items(request, received=True))
    stock_commit(items=[(v, n) for v, n in sent.items() if n], order_id=request.order_id)
    stock_release(
        items=[(v, reserved[v] - sent.get(v, 0)) for v in reserved if reserved[v] > sent.get(v, 0)],
        order_id=request.order_id,
    )
    if any(sent.values()):
        request.exchange_shipment = Shipment.objects.create(
            order_id=request.order_id,
            store_id=request.store_id,
            is_exchange=True,
            method_name="Exchange",
            shipping_amount=Decimal("0.00"),
            min_days=request.shipment.min_days,
            max_days=request.shipment.max_days,
        )
        request.save(update_fields=["exchange_shipment", "updated_at"])


@transaction.atomic
def return_close(*, return_id: int) -> bool:
    """The refund of a received return succeeded (or none was due): closed, once."""
    request = ReturnRequest.objects.select_for_update().filter(pk=return_id).first()
    if request is None or request.status != ReturnStatus.RECEIVED:
        return False
    _set(request, ReturnStatus.CLOSED, closed_at=timezone.now())
    publish(ReturnClosed(return_id=request.pk))
    return True


def returns_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """Requests the store left unanswered for ``RETURN_ESCALATE_DAYS`` are escalated to
    staff (once); approved returns whose items did not come back within
    ``RETURN_SHIP_BACK_DAYS`` expire and release their replacements. Returns
    ``(escalated, expired)``."""
    now = now or timezone.now()
    escalated = ReturnRequest.objects.filter(
        status=ReturnStatus.REQUESTED,
        escalated_at__isnull=True,
        created_at__lte=now - timedelta(days=int(settings.RETURN_ESCALATE_DAYS)),
    ).update(escalated_at=now)
    if escalated:
        logger.warning("returns.escalated", count=escalated, alert=True)
    due = list(
        ReturnRequest.objects.filter(
            status=ReturnStatus.APPROVED,
            approved_at__lte=now - timedelta(days=int(settings.RETURN_SHIP_BACK_DAYS)),
        ).values_list("pk", flat=True)[:500]
    )
    expired = 0
    for return_id in due:
        with transaction.atomic():
            request = _locked_request(return_id)
            if request.status != ReturnStatus.APPROVED:
                continue
            stock_release(items=_exchange_items(request), order_id=request.order_id)
            _set(request, ReturnStatus.EXPIRED, expired_at=now)
            expired += 1
    return escalated, expired

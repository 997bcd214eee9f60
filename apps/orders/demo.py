"""The demo order history: about 3,000 orders over the last six months by 200 demo
shoppers (and a handful by the demo customer), plus a few unpaid orders holding stock.

``manage.py seed_demo`` calls ``orders_seed_demo`` after the catalogue. The history is
the past: it is written in bulk with its own timestamps and leaves current stock alone.
The unpaid orders are the present: they go through ``order_create`` so they hold real
reservations that the expiry task can later release. Everything is written in one
transaction, and a second run finds the shoppers' orders and changes nothing.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from apps.authentication.models import Role, User
from apps.authentication.services import DEMO_ACCOUNTS
from apps.catalog.models import Variant
from apps.inventory.models import Stock
from apps.orders.models import Order, OrderLine, OrderStatus
from apps.orders.services import OrderItem, order_create
from apps.orders.services.placement import _order_number
from apps.shipping.demo import DEMO_CARRIERS, demo_shipping_charge
from apps.shipping.models import DeliveryConfirmation, Shipment, ShipmentStatus
from apps.vendors.models import StoreStatus

SHOPPERS = 200
SHOPPER_EMAIL = "shopper{:03d}@example.com"
HISTORY_ORDERS = (3000, 150)  # (full, --small), including the demo customer's
PENDING_ORDERS = (10, 3)
HISTORY_DAYS = 182
BATCH = 500
CANCELLED_SHARE = 0.08
REFUNDED_SHARE = 0.02
# Customers shop on Lagos time, whatever the server's zone.
SHOPPER_ZONE = ZoneInfo("Africa/Lagos")
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 2, 3, 4, 5, 6, 7, 7, 6, 6, 6, 6, 7, 8, 9, 8, 5, 3)
WEEKDAY_WEIGHTS = (1.0, 0.95, 0.95, 1.0, 1.15, 1.25, 1.05)  # Monday first
LINE_COUNTS, LINE_COUNT_WEIGHTS = (1, 2, 3, 4), (55, 28, 12, 5)
QUANTITIES, QUANTITY_WEIGHTS = (1, 2, 3, 4), (72, 21, 5, 2)
SIZE_WEIGHTS = {"XS": 0.5, "S": 1.0, "M": 1.5, "L": 1.4, "XL": 0.9, "XXL": 0.5}
# The demo customer's own history, so signing in shows every state:
# (status, days ago, hour in Lagos). Each is old enough to have reached its status.
DEMO_CUSTOMER_HISTORY: tuple[tuple[str, int, int], ...] = (
    (OrderStatus.DELIVERED, 118, 20),
    (OrderStatus.DELIVERED, 63, 12),
    (OrderStatus.REFUNDED, 34, 19),
    (OrderStatus.DELIVERED, 19, 13),
    (OrderStatus.CANCELLED, 11, 21),
    (OrderStatus.FULFILLED, 4, 18),
    (OrderStatus.PARTLY_SHIPPED, 3, 11),
    (OrderStatus.PAID, 1, 19),
)
DEMO_CUSTOMER_ADDRESS = "12 Admiralty Way, Lekki Phase 1, Lagos"
STREETS = (
    "Admiralty Way, Lekki Phase 1, Lagos",
    "Adeola Odeku Street, Victoria Island, Lagos",
    "Allen Avenue, Ikeja, Lagos",
    "Herbert Macaulay Way, Yaba, Lagos",
    "Awolowo Road, Ikoyi, Lagos",
    "Aminu Kano Crescent, Wuse 2, Abuja",
    "Ahmadu Bello Way, Garki, Abuja",
    "Ring Road, Ibadan, Oyo",
    "Aba Road, Port Harcourt, Rivers",
    "Ogui Road, Enugu",
    "Zoo Road, Kano",
    "Old Kent Road, London SE1",
    "Peckham High Street, London SE15",
    "Deansgate, Manchester M3",
)
FIRST_NAMES = (
    "Adaeze", "Chidi", "Funmi", "Tunde", "Ngozi", "Emeka", "Aisha", "Ibrahim", "Kemi",
    "Segun", "Zainab", "Obinna", "Yetunde", "Musa", "Chiamaka", "Bola", "Femi", "Halima",
    "Ifeoma", "Dayo", "Amara", "Kelechi", "Sade", "Uche", "Grace", "Daniel", "Sophie",
    "James", "Amelia", "Oliver",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Adeyemi", "Bello", "Eze", "Okonkwo", "Balogun", "Abubakar", "Nwosu",
    "Ogunleye", "Danjuma", "Olawale", "Chukwu", "Ibekwe", "Lawal", "Mohammed", "Afolabi",
    "Obi", "Adebayo", "Smith", "Taylor", "Mensah", "Owusu", "Johnson", "Williams",
)  # fmt: skip
NOTES = (
    "Please call on arrival.",
    "Leave with the gatekeeper.",
    "Gift wrap, please.",
    "Deliver after 5 pm.",
)


class _Sellable(NamedTuple):
    variant_id: int
    product_id: int
    store_id: int
    product_name: str
    sku: str
    size: str
    colour: str
    price: Decimal
    currency: str


@dataclass
class _Planned:
    order: Order
    lines: list[OrderLine]
    shipments: list[Shipment]
    # bulk_create stamps created_at/updated_at with "now"; these are written back after.
    created_at: datetime
    updated_at: datetime


@dataclass
class _Pool:
    variants: list[_Sellable] = field(default_factory=list)
    cum_weights: list[float] = field(default_factory=list)


def _seconds(rng: random.Random, low: timedelta, high: timedelta) -> timedelta:
    return timedelta(seconds=rng.randint(int(low.total_seconds()), int(high.total_seconds())))


def _shoppers(seed: int) -> list[User]:
    """The demo shoppers (created when missing), in email order."""
    emails = [SHOPPER_EMAIL.format(n) for n in range(1, SHOPPERS + 1)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    # Own stream: whether the shoppers exist must not change the order plan.
    rng = random.Random(f"{seed}-shoppers")
    joined = timezone.now() - timedelta(days=HISTORY_DAYS)
    new = []
    for email in emails:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        since = joined - _seconds(rng, timedelta(days=1), timedelta(days=400))
        if email in existing:
            continue
        user = User(
            email=email,
            full_name=name,
            role=Role.CUSTOMER,
            is_email_verified=True,
            date_joined=since,
        )
        user.set_unusable_password()
        new.append(user)
    User.objects.bulk_create(new, batch_size=BATCH)
    return list(User.objects.filter(email__in=emails).order_by("email"))


def _sellables() -> list[_Sellable]:
    """Active variants of active products in approved stores, in SKU order (stable for a
    given catalogue seed, unlike ids across databases)."""
    rows = (
        Variant.objects.filter(
            is_active=True, product__is_active=True, product__store__status=StoreStatus.APPROVED
        )
        .order_by("sku")
        .values_list(
            "pk",
            "product_id",
            "product__store_id",
            "product__name",
            "sku",
            "size",
            "colour__name",
            "price",
            "currency",
        )
    )
    return [_Sellable(*row) for row in rows]


def _pools(rng: random.Random, sellables: list[_Sellable]) -> dict[str, _Pool]:
    """Sellables by currency with popularity weights: a few best-selling products and
    the middle sizes sell more."""
    popularity: dict[int, float] = {}
    pools: dict[str, _Pool] = {}
    for item in sellables:
        if item.product_id not in popularity:
            popularity[item.product_id] = rng.lognormvariate(0, 1)
        pool = pools.setdefault(item.currency, _Pool())
        pool.variants.append(item)
        pool.cum_weights.append(popularity[item.product_id] * SIZE_WEIGHTS.get(item.size, 1.0))
    for pool in pools.values():
        pool.cum_weights = list(itertools.accumulate(pool.cum_weights))
    return pools


def _pick_lines(rng: random.Random, pools: dict[str, _Pool]) -> list[tuple[_Sellable, int]]:
    """1-4 distinct variants in one currency, mostly one or two of each."""
    pool = pools[rng.choice(sorted(pools))]
    wanted = rng.choices(LINE_COUNTS, LINE_COUNT_WEIGHTS)[0]
    picked: dict[int, _Sellable] = {}
    for _ in range(wanted * 3):  # a few redraws when a variant comes up twice
        variant = rng.choices(pool.variants, cum_weights=pool.cum_weights)[0]
        picked.setdefault(variant.variant_id, variant)
        if len(picked) == wanted:
            break
    return [(v, rng.choices(QUANTITIES, QUANTITY_WEIGHTS)[0]) for v in picked.values()]


def _created_times(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """``count`` times over the last HISTORY_DAYS, busier lately, at weekends and in the
    afternoon and evening (Lagos time), oldest first; none in the last hour."""
    today = timezone.localtime(now, SHOPPER_ZONE).date()
    days = [today - timedelta(days=back) for back in range(HISTORY_DAYS)]
    weights = [
        (1 + 2 * (1 - back / HISTORY_DAYS)) * WEEKDAY_WEIGHTS[day.weekday()]
        for back, day in enumerate(days)
    ]
    latest = now - timedelta(hours=1)
    times = []
    for day in rng.choices(days, weights, k=count):
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        moment = _at(day, hour, rng.randrange(60), rng.randrange(60))
        times.append(moment if moment <= latest else moment - timedelta(days=1))
    return sorted(times)


def _at(day: date, hour: int, minute: int, second: int) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=SHOPPER_ZONE)


def _timeline(
    rng: random.Random,
    *,
    created: datetime,
    now: datetime,
    stores: Sequence[int],
    target: str | None = None,
) -> tuple[dict[str, Any], dict[int, datetime]]:
    """Status and timestamps of one past order, and when each store shipped its lines.

    Without ``target`` the order is cancelled or refunded at the usual rates and
    otherwise got as far as time allows (paid, then each store ships, then delivery).
    """
    hold = created + timedelta(minutes=int(settings.ORDER_RESERVATION_MINUTES))
    fields: dict[str, Any] = {"reserved_until": hold}
    roll = rng.random()
    if target == OrderStatus.CANCELLED or (target is None and roll < CANCELLED_SHARE):
        if target is None and rng.random() < 0.7:
            cancelled = hold + _seconds(rng, timedelta(0), timedelta(minutes=5))
            fields.update(cancel_reason="expired")
        else:
            cancelled = created + _seconds(rng, timedelta(minutes=1), timedelta(minutes=25))
            fields.update(cancel_reason="customer")
        fields.update(status=OrderStatus.CANCELLED, cancelled_at=min(cancelled, now))
        return fields, {}
    paid = created + _seconds(rng, timedelta(minutes=1), timedelta(minutes=25))
    fields.update(status=OrderStatus.PAID, paid_at=paid)
    refund = target == OrderStatus.REFUNDED or (
        target is None and roll < CANCELLED_SHARE + REFUNDED_SHARE
    )
    if refund:
        refunded = paid + _seconds(rng, timedelta(hours=2), timedelta(days=4))
        if refunded > now:
            refunded = paid + (now - paid) * rng.uniform(0.2, 0.9)
        fields.update(status=OrderStatus.REFUNDED, refunded_at=refunded)
        return fields, {}
    if target == OrderStatus.PAID:
        return fields, {}
    shipped = {
        store: paid + _seconds(rng, timedelta(hours=3), timedelta(days=3))
        for store in sorted(set(stores))
    }
    delivery = _seconds(rng, timedelta(hours=18), timedelta(days=5))
    if target is not None:  # the demo customer's orders are old enough; this only guards
        shipped = {store: min(at, now) for store, at in shipped.items()}
    if target == OrderStatus.PARTLY_SHIPPED:  # the first store has sent its parcel
        first = min(shipped)
        shipped = {
            store: at if store == first else now + timedelta(days=1)
            for store, at in shipped.items()
        }
    shipped_by_now = {store: at for store, at in shipped.items() if at <= now}
    if len(shipped_by_now) < len(shipped):
        if shipped_by_now:
            fields.update(status=OrderStatus.PARTLY_SHIPPED)
        return fields, shipped_by_now
    fulfilled = max(shipped.values())
    fields.update(status=OrderStatus.FULFILLED, fulfilled_at=fulfilled)
    if target == OrderStatus.FULFILLED or fulfilled + delivery > now:
        return fields, shipped
    fields.update(status=OrderStatus.DELIVERED, delivered_at=fulfilled + delivery)
    return fields, shipped


def _plan_order(
    rng: random.Random,
    *,
    customer_id: int,
    address: str,
    created: datetime,
    now: datetime,
    pools: dict[str, _Pool],
    target: str | None = None,
) -> _Planned:
    picked = _pick_lines(rng, pools)
    for _ in range(50 if target == OrderStatus.PARTLY_SHIPPED else 0):
        if len({variant.store_id for variant, _ in picked}) > 1:
            break  # a partly shipped order needs the parcels of two stores
        picked = _pick_lines(rng, pools)
    fields, shipped = _timeline(
        rng, created=created, now=now, stores=[v.store_id for v, _ in picked], target=target
    )
    lines = [
        OrderLine(
            variant_id=variant.variant_id,
            store_id=variant.store_id,
            product_name=variant.product_name,
            sku=variant.sku,
            size=variant.size,
            colour=variant.colour,
            unit_price=variant.price,
            quantity=quantity,
            line_total=variant.price * quantity,
            fulfilled_at=shipped.get(variant.store_id),
        )
        for variant, quantity in picked
    ]
    notes = rng.choice(NOTES) if rng.random() < 0.1 else ""
    currency = picked[0][0].currency
    subtotals: dict[int, Decimal] = {}
    for line in lines:
        subtotals[line.store_id] = subtotals.get(line.store_id, Decimal("0.00")) + line.line_total
    shipments = [
        Shipment(
            store_id=store_id,
            method_name="Standard delivery",
            shipping_amount=demo_shipping_charge(currency, subtotal),
            min_days=1,
            max_days=5,
        )
        for store_id, subtotal in subtotals.items()
    ]
    shipping = sum((shipment.shipping_amount for shipment in shipments), Decimal("0.00"))
    order = Order(
        customer_id=customer_id,
        currency=currency,
        total_amount=sum((line.line_total for line in lines), Decimal("0.00")) + shipping,
        shipping_amount=shipping,
        delivery_address=address,
        customer_notes=notes,
        **fields,
    )
    events = [created, *(v for k, v in fields.items() if k.endswith("_at") and v is not None)]
    return _Planned(
        order=order,
        lines=lines,
        shipments=shipments,
        created_at=created,
        updated_at=max(events),
    )


def _parcels(planned: list[_Planned], rng: random.Random, now: datetime) -> None:
    """Each parcel's state from its order's timeline: sent with a carrier and a tracking
    number when its store shipped, delivered with the order; some still packed, a few
    back with their sender — so the history shows every state. Its own random stream:
    the orders are the same with or without it."""
    sent_only: list[Shipment] = []
    for item in planned:
        order = item.order
        sent = {line.store_id: line.fulfilled_at for line in item.lines if line.fulfilled_at}
        for shipment in item.shipments:
            shipped_at = sent.get(shipment.store_id)
            if shipped_at is None:
                packed = order.paid_at and order.paid_at + _seconds(
                    rng, timedelta(hours=1), timedelta(hours=30)
                )
                if order.status in {OrderStatus.PAID, OrderStatus.PARTLY_SHIPPED} and (
                    packed and packed <= now and rng.random() < 0.5
                ):
                    shipment.status, shipment.packed_at = ShipmentStatus.PACKED, packed
                continue
            carrier = rng.choice(sorted(DEMO_CARRIERS))
            number = f"{rng.randrange(10**9, 10**10)}"
            shipment.carrier, shipment.tracking_number = carrier, number
            shipment.tracking_url = DEMO_CARRIERS[carrier].replace("{number}", number)
            shipment.packed_at = shipped_at - _seconds(rng, timedelta(0), timedelta(hours=6))
            shipment.shipped_at = shipped_at
            shipment.status = ShipmentStatus.SHIPPED
            if order.status == OrderStatus.DELIVERED:
                shipment.status = ShipmentStatus.DELIVERED
                shipment.delivered_at = order.delivered_at
                shipment.delivery_confirmed_by = rng.choice(DeliveryConfirmation.values[:3])
            elif order.status == OrderStatus.FULFILLED:
                sent_only.append(shipment)
    # A few parcels came back to their senders (at least one, so the state shows).
    returned = [s for s in sent_only if rng.random() < 0.05] or sent_only[:1]
    for shipment in returned:
        assert shipment.shipped_at is not None
        back = shipment.shipped_at + _seconds(rng, timedelta(days=1), timedelta(days=8))
        shipment.status, shipment.returned_at = ShipmentStatus.RETURNED, min(back, now)


def _address(rng: random.Random) -> str:
    return f"{rng.randint(1, 120)} {rng.choice(STREETS)}"


def _plan(
    rng: random.Random,
    *,
    shoppers: list[User],
    demo_customer: User | None,
    pools: dict[str, _Pool],
    count: int,
    now: datetime,
) -> list[_Planned]:
    """The past orders, oldest first; shoppers order at different rates and mostly to
    their home address."""
    homes = {shopper.pk: _address(rng) for shopper in shoppers}
    loyalty = list(itertools.accumulate(rng.lognormvariate(0, 0.6) for _ in shoppers))
    planned: list[_Planned] = []
    if demo_customer is not None:
        today = timezone.localtime(now, SHOPPER_ZONE).date()
        for status, days_ago, hour in DEMO_CUSTOMER_HISTORY:
            day = today - timedelta(days=days_ago)
            created = _at(day, hour, rng.randrange(60), rng.randrange(60))
            planned.append(
                _plan_order(
                    rng,
                    customer_id=demo_customer.pk,
                    address=DEMO_CUSTOMER_ADDRESS,
                    created=created,
                    now=now,
                    pools=pools,
                    target=status,
                )
            )
    for created in _created_times(rng, count - len(planned), now):
        shopper = rng.choices(shoppers, cum_weights=loyalty)[0]
        address = homes[shopper.pk] if rng.random() < 0.85 else _address(rng)
        planned.append(
            _plan_order(
                rng,
                customer_id=shopper.pk,
                address=address,
                created=created,
                now=now,
                pools=pools,
            )
        )
    planned.sort(key=lambda item: item.created_at)  # ids then follow time, as in real life
    return planned


def _fresh_numbers(count: int) -> list[str]:
    """``count`` order numbers from the placement generator, unused so far."""
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.update(_order_number() for _ in range(count - len(numbers)))
        numbers -= set(
            Order.objects.filter(order_number__in=numbers).values_list("order_number", flat=True)
        )
    return sorted(numbers)


def _backdate(orders: list[Order]) -> None:
    """Write the orders' own ``created_at`` / ``updated_at`` (which ``bulk_create``
    replaced with now): one prepared statement run per row, several times faster than
    ``bulk_update`` and its per-row CASE expressions."""
    created, updated = Order._meta.get_field("created_at"), Order._meta.get_field("updated_at")
    quote = connection.ops.quote_name
    # Only names from the model go into the text; the values are parameters.
    sql = (
        f"UPDATE {quote(Order._meta.db_table)} SET {quote('created_at')} = %s, "  # noqa: S608
        f"{quote('updated_at')} = %s WHERE {quote('id')} = %s"
    )
    rows = [
        (
            created.get_db_prep_save(order.created_at, connection),
            updated.get_db_prep_save(order.updated_at, connection),
            order.pk,
        )
        for order in orders
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _write(planned: list[_Planned], bar: tqdm[Any]) -> None:
    for start in range(0, len(planned), BATCH):
        batch = planned[start : start + BATCH]
        for item, number in zip(batch, _fresh_numbers(len(batch)), strict=True):
            item.order.order_number = number
        orders = Order.objects.bulk_create([item.order for item in batch])
        for item in batch:
            item.order.created_at, item.order.updated_at = item.created_at, item.updated_at
            for line in item.lines:
                line.order = item.order
        _backdate(orders)
        OrderLine.objects.bulk_create([line for item in batch for line in item.lines])
        for item in batch:
            for shipment in item.shipments:
                shipment.order = item.order
        Shipment.objects.bulk_create([s for item in batch for s in item.shipments])
        bar.update(len(batch))


def _place_pending(
    rng: random.Random,
    *,
    customers: list[User],
    demo_customer: User | None,
    sellables: list[_Sellable],
    bar: tqdm[Any],
) -> int:
    """Unpaid orders placed through the real service, one per customer, so they hold
    stock (and expire like any other)."""
    in_stock = set(
        Stock.objects.filter(on_hand__gte=F("reserved") + 2).values_list("variant_id", flat=True)
    )
    by_currency: dict[str, list[_Sellable]] = {}
    for item in sellables:
        if item.variant_id in in_stock:
            by_currency.setdefault(item.currency, []).append(item)
    placed = 0
    for customer in customers if by_currency else []:
        pool = by_currency[rng.choice(sorted(by_currency))]
        variants = rng.sample(pool, min(len(pool), rng.choice((1, 1, 2))))
        if not variants:
            break
        for variant in variants:  # each variant once, so every order's stock is there
            pool.remove(variant)
        order_create(
            customer_id=customer.pk,
            items=[OrderItem(v.variant_id, rng.choice((1, 1, 2))) for v in variants],
            delivery_address=(
                DEMO_CUSTOMER_ADDRESS if customer == demo_customer else _address(rng)
            ),
        )
        placed += 1
        bar.update(1)
    return placed


def _demo_customer_email() -> str:
    return next(email for email, _, role in DEMO_ACCOUNTS if role == Role.CUSTOMER)


@transaction.atomic
def orders_seed_demo(*, seed: int, small: bool, progress: bool) -> int:
    """Create the demo order history once; returns how many orders were created (0 when
    the shoppers' orders are already there or the catalogue has nothing for sale)."""
    shoppers = _shoppers(seed)
    if Order.objects.filter(customer__in=shoppers).exists():
        return 0
    sellables = _sellables()
    if not sellables:
        return 0
    demo_customer = User.objects.filter(email=_demo_customer_email()).first()
    rng = random.Random(seed)
    now = timezone.now()
    pools = _pools(rng, sellables)
    planned = _plan(
        rng,
        shoppers=shoppers,
        demo_customer=demo_customer,
        pools=pools,
        count=HISTORY_ORDERS[small],
        now=now,
    )
    # The demo customer first, so signing in shows an order awaiting payment too.
    pending = rng.sample(shoppers, PENDING_ORDERS[small])
    if demo_customer is not None:
        pending = [demo_customer, *pending[1:]]
    _parcels(planned, random.Random(f"{seed}-parcels"), now)
    bar = tqdm(
        total=len(planned) + len(pending), desc="demo orders", unit="order", disable=not progress
    )
    _write(planned, bar)
    placed = _place_pending(
        rng, customers=pending, demo_customer=demo_customer, sellables=sellables, bar=bar
    )
    bar.close()
    return len(planned) + placed

"""Writes on the catalogue: products with nested variants, categories.

Every public function validates the whole input first and reports every bad field at
once (``ValidationFailed`` with dotted paths such as ``variants.1.sku``), then writes in
one transaction: either the whole product lands or nothing does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils.text import slugify

from apps.authentication.models import User
from apps.catalog.models import SIZE_SET, Category, Colour, Product, Variant
from apps.common.errors import FieldError, ValidationFailed
from apps.common.slugs import unique_slug
from apps.inventory.models import Stock, StockMovement
from apps.inventory.services import stock_adjust, stock_initialise
from apps.vendors.models import Store

logger = structlog.get_logger(__name__)

SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,63}$")
MAX_PRICE = Decimal("9999999999.99")
MAX_IMAGES = 10
MAX_VARIANTS = 200
MAX_INITIAL_STOCK = 1_000_000
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

VariantInput = Mapping[str, Any]


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.items.append(FieldError(field, message, code))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(
                "; ".join(f"{e.field}: {e.message}" for e in self.items[:5]),
                field_errors=self.items,
            )


def _price(value: Any, field: str, errors: _Errors, *, required: bool) -> Decimal | None:
    if value is None:
        if required:
            errors.add(field, "This field is required.", "required")
        return None
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.add(field, "Must be a decimal number.", "invalid")
        return None
    if not price.is_finite():
        errors.add(field, "Must be a decimal number.", "invalid")
        return None
    if price <= 0:
        errors.add(field, "Must be greater than zero.", "min_value")
        return None
    if price > MAX_PRICE or price != price.quantize(Decimal("0.01")):
        errors.add(field, "At most 10 digits before and 2 after the point.", "invalid")
        return None
    return price.quantize(Decimal("0.01"))


def _check_product_fields(data: Mapping[str, Any], errors: _Errors) -> Category | None:
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name or not slugify(name):
            errors.add("name", "A product needs a name with letters or digits.", "required")
        elif len(name) > 200:
            errors.add("name", "At most 200 characters.", "max_length")
    if "brand" in data and len(str(data["brand"] or "")) > 100:
        errors.add("brand", "At most 100 characters.", "max_length")
    if "images" in data:
        images = data["images"]
        if not isinstance(images, (list, tuple)):
            errors.add("images", "Must be a list of URLs.", "invalid")
        else:
            if len(images) > MAX_IMAGES:
                errors.add("images", f"At most {MAX_IMAGES} images.", "max_length")
            for index, url in enumerate(images):
                if not isinstance(url, str) or len(url) > 500 or not URL_PATTERN.match(url):
                    errors.add(f"images.{index}", "Must be an http(s) URL.", "invalid_url")
    category = None
    if "category_id" in data:
        category = Category.objects.filter(pk=data["category_id"]).first()
        if category is None:
            errors.add("category_id", "Unknown category.", "unknown_category")
    return category


def _check_variants(
    variants: Sequence[VariantInput],
    errors: _Errors,
    *,
    product: Product | None,
) -> tuple[list[dict[str, Any]], dict[int, Variant]]:
    """Validate nested variants; returns cleaned specs and the existing variants by id."""
    if len(variants) > MAX_VARIANTS:
        errors.add("variants", f"At most {MAX_VARIANTS} variants.", "max_length")
        return [], {}
    existing: dict[int, Variant] = {}
    if product is not None:
        existing = {v.pk: v for v in Variant.objects.filter(product=product)}
    names = {str(v.get("colour", "")).strip().lower() for v in variants if v.get("colour")}
    colours = {c.name.lower(): c for c in Colour.objects.all() if c.name.lower() in names}
    skus = [str(v.get("sku", "")).strip().upper() for v in variants if v.get("sku")]
    taken = set(
        Variant.objects.filter(sku__in=skus)
        .exclude(product=product if product is not None else None)
        .values_list("sku", flat=True)
    )
    seen_skus: set[str] = set()
    seen_combos: dict[tuple[str, int], int] = {}
    cleaned: list[dict[str, Any]] = []
    for index, spec in enumerate(variants):
        path = f"variants.{index}"
        current: Variant | None = None
        if spec.get("id") is not None:
            current = existing.get(spec["id"])
            if current is None:
                errors.add(f"{path}.id", "No such variant on this product.", "unknown_variant")
                continue
        out: dict[str, Any] = {"index": index, "variant": current}
        if "sku" in spec or current is None:
            sku = str(spec.get("sku") or "").strip().upper()
            if not sku:
                errors.add(f"{path}.sku", "This field is required.", "required")
            elif not SKU_PATTERN.match(sku):
                errors.add(f"{path}.sku", "Letters, digits, '.', '_' or '-', up to 64.", "invalid")
            elif sku in seen_skus or (sku in taken and (current is None or current.sku != sku)):
                errors.add(f"{path}.sku", f"SKU {sku} is already in use.", "duplicate_sku")
            else:
                out["sku"] = sku
            seen_skus.add(sku)
        if "size" in spec or current is None:
            size = str(spec.get("size") or "").strip()
            if size not in SIZE_SET:
                errors.add(f"{path}.size", "Unknown size.", "invalid_choice")
            else:
                out["size"] = size
        if "colour" in spec or current is None:
            colour = colours.get(str(spec.get("colour") or "").strip().lower())
            if colour is None:
                errors.add(f"{path}.colour", "Unknown colour.", "unknown_colour")
            else:
                out["colour"] = colour
        if "price" in spec or current is None:
            out["price"] = _price(spec.get("price"), f"{path}.price", errors, required=True)
        if "compare_at_price" in spec:
            out["compare_at_price"] = _price(
                spec.get("compare_at_price"), f"{path}.compare_at_price", errors, required=False
            )
        price = out.get("price") or (current.price if current else None)
        compare = (
            out.get("compare_at_price")
            if "compare_at_price" in out
            else (current.compare_at_price if current else None)
        )
        if price is not None and compare is not None and compare <= price:
            errors.add(f"{path}.compare_at_price", "Must be above the price.", "compare_at_too_low")
        if "is_active" in spec:
            out["is_active"] = bool(spec["is_active"])
        if current is None:
            stock = spec.get("stock", 0)
            if not isinstance(stock, int) or isinstance(stock, bool) or stock < 0:
                errors.add(f"{path}.stock", "Must be a whole number, zero or more.", "min_value")
            elif stock > MAX_INITIAL_STOCK:
                errors.add(f"{path}.stock", f"At most {MAX_INITIAL_STOCK}.", "max_value")
            else:
                out["stock"] = stock
        elif "stock" in spec:
            errors.add(
                f"{path}.stock",
                "Change the stock of an existing variant with a stock adjustment.",
                "read_only",
            )
        size_value = out.get("size") or (current.size if current else None)
        colour_obj = out.get("colour") or (current.colour if current else None)
        if size_value and colour_obj:
            combo = (size_value, colour_obj.pk)
            if combo in seen_combos:
                errors.add(
                    f"{path}.size",
                    f"Same size and colour as variants.{seen_combos[combo]}.",
                    "duplicate_variant",
                )
            seen_combos[combo] = index
        cleaned.append(out)
    # Variants not mentioned keep their size and colour: they must not clash either.
    mentioned = {out["variant"].pk for out in cleaned if out["variant"] is not None}
    for variant in existing.values():
        if variant.pk not in mentioned and (variant.size, variant.colour_id) in seen_combos:
            index = seen_combos[(variant.size, variant.colour_id)]
            errors.add(
                f"variants.{index}.size",
                f"Same size and colour as variant {variant.pk}.",
                "duplicate_variant",
            )
    return cleaned, existing


# The marketplace's own rules, which no format check can see: an API that refuses an
# input's format still reports these in the same answer (``product_rule_errors``).
RULE_CODES = frozenset(
    {
        "duplicate_sku",
        "unknown_colour",
        "compare_at_too_low",
        "unknown_category",
        "duplicate_variant",
        "unknown_variant",
    }
)


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def product_rule_errors(
    *, data: Mapping[str, Any], product: Product | None = None
) -> list[FieldError]:
    """The rule errors (``RULE_CODES``) of a product input whose format is not yet valid:
    duplicate SKU, unknown colour or category, compare-at price not above the price, the
    same size x colour twice. Reads only; values of the wrong type are skipped (their
    format error is the caller's), so a client fixes everything in one round trip."""
    errors = _Errors()
    fields: dict[str, Any] = {}
    if "category_id" in data:
        category_id = _whole_number(data["category_id"])
        if category_id is not None:
            fields["category_id"] = category_id
    _check_product_fields(fields, errors)
    variants = data.get("variants")
    if isinstance(variants, (list, tuple)) and len(variants) <= MAX_VARIANTS:
        specs: list[dict[str, Any]] = []
        for raw in variants:
            spec = dict(raw) if isinstance(raw, Mapping) else {}
            if "id" in spec and spec["id"] is not None:
                variant_id = _whole_number(spec["id"])
                spec = spec if variant_id is None else {**spec, "id": variant_id}
                if variant_id is None:
                    spec = {}
            specs.append(spec)
        _check_variants(specs, errors, product=product)
    return [error for error in errors.items if error.code in RULE_CODES]


def _product_slug(*, store_id: int, name: str, exclude_id: int | None = None) -> str:
    scope = Product.objects.filter(store_id=store_id)
    return unique_slug(scope, name=name, max_length=200, fallback="product", exclude_id=exclude_id)


def _write_variants(*, product: Product, cleaned: list[dict[str, Any]], actor: User | None) -> None:
    for out in cleaned:
        variant: Variant | None = out["variant"]
        fields = {
            k: out[k]
            for k in ("sku", "size", "colour", "price", "compare_at_price", "is_active")
            if k in out
        }
        try:
            with transaction.atomic():
                if variant is None:
                    variant = Variant.objects.create(product=product, **fields)
                    stock_initialise(
                        variant_id=variant.pk,
                        on_hand=out.get("stock", 0),
                        actor=actor,
                        field=f"variants.{out['index']}.stock",
                    )
                elif fields:
                    for key, value in fields.items():
                        setattr(variant, key, value)
                    variant.save(update_fields=[*fields, "updated_at"])
        except IntegrityError as error:
            # A concurrent writer took the SKU between the check and the insert.
            raise ValidationFailed.for_field(
                f"variants.{out['index']}.sku", "This SKU is already in use.", "duplicate_sku"
            ) from error


def product_refresh_min_price(*, product: Product) -> None:
    """Recompute the denormalised lowest active price the catalogue sorts on."""
    product.min_price = Variant.objects.filter(product=product, is_active=True).aggregate(
        low=Min("price")
    )["low"]
    Product.objects.filter(pk=product.pk).update(min_price=product.min_price)


@transaction.atomic
def product_create(
    *,
    actor: User | None,
    store: Store,
    name: str,
    category_id: int,
    description: str = "",
    brand: str = "",
    images: Sequence[str] = (),
    is_active: bool = True,
    variants: Sequence[VariantInput] = (),
) -> Product:
    """Create a product with its variants (and each variant's initial stock, recorded in the
    ledger). Raises ``ValidationFailed`` listing every bad field: empty name, unknown
    category, bad image URL, duplicate or malformed SKU, unknown size or colour, price not
    above zero, compare-at price not above the price, the same size x colour twice."""
    errors = _Errors()
    category = _check_product_fields(
        {
            "name": name,
            "brand": brand,
            "images": list(images),
            "category_id": category_id,
        },
        errors,
    )
    cleaned, _ = _check_variants(variants, errors, product=None)
    errors.raise_if_any()
    assert category is not None
    name = name.strip()
    product = Product.objects.create(
        store=store,
        category=category,
        name=name,
        slug=_product_slug(store_id=store.pk, name=name),
        description=description or "",
        brand=(brand or "").strip(),
        images=list(images),
        is_active=is_active,
    )
    _write_variants(product=product, cleaned=cleaned, actor=actor)
    product_refresh_min_price(product=product)
    logger.info("product.created", product_id=product.pk, store_id=store.pk)
    return product


@transaction.atomic
def product_update(*, actor: User | None, product: Product, data: Mapping[str, Any]) -> Product:
    """Change a product's fields (any of ``name``, ``description``, ``brand``,
    ``category_id``, ``images``, ``is_active``) and its variants: an entry with ``id``
    changes that variant, one without adds a variant; variants not listed stay as they
    are (deactivate one with ``is_active: false``). Raises ``ValidationFailed``."""
    errors = _Errors()
    category = _check_product_fields(data, errors)
    cleaned: list[dict[str, Any]] = []
    if "variants" in data:
        cleaned, _ = _check_variants(data["variants"] or [], errors, product=product)
    errors.raise_if_any()
    product = Product.objects.select_for_update().get(pk=product.pk)
    fields: list[str] = []
    if "name" in data:
        product.name = str(data["name"]).strip()
        product.slug = _product_slug(
            store_id=product.store_id, name=product.name, exclude_id=product.pk
        )
        fields += ["name", "slug"]
    if category is not None:
        product.category = category
        fields.append("category")
    for key in ("description", "brand"):
        if key in data:
            setattr(product, key, str(data[key] or "").strip())
            fields.append(key)
    if "images" in data:
        product.images = list(data["images"])
        fields.append("images")
    if "is_active" in data:
        product.is_active = bool(data["is_active"])
        fields.append("is_active")
    if fields:
        product.save(update_fields=[*fields, "updated_at"])
    _write_variants(product=product, cleaned=cleaned, actor=actor)
    product_refresh_min_price(product=product)
    logger.info("product.updated", product_id=product.pk)
    return product


@transaction.atomic
def product_deactivate(*, actor: User | None, product: Product) -> Product:
    """Take a product off sale (it stays for order history and can be reactivated)."""
    Product.objects.filter(pk=product.pk).update(is_active=False)
    product.is_active = False
    logger.info("product.deactivated", product_id=product.pk, actor_id=getattr(actor, "pk", None))
    return product


@transaction.atomic
def product_after_admin_edit(*, product: Product) -> None:
    """Keep the derived data right after an edit in the admin: every variant has a stock
    row, and the lowest price is current."""
    missing = Variant.objects.filter(product=product, stock__isnull=True).values_list(
        "pk", flat=True
    )
    Stock.objects.bulk_create([Stock(variant_id=pk) for pk in missing])
    product_refresh_min_price(product=product)


@transaction.atomic
def category_create(
    *, name: str, slug: str | None = None, parent: Category | None = None
) -> Category:
    """Add a category (under ``parent``). Raises ``ValidationFailed`` for a taken slug."""
    slug = slugify(slug or name)
    if not slug:
        raise ValidationFailed.for_field("name", "A category needs a name.", "required")
    if Category.objects.filter(slug=slug).exists():
        raise ValidationFailed.for_field("slug", "This slug is taken.", "duplicate_slug")
    return Category.objects.create(name=name.strip(), slug=slug, parent=parent)


def variant_stock_adjust(
    *,
    actor: User | None,
    product: Product,
    variant_id: int,
    delta: int,
    reason: str,
    note: str = "",
) -> StockMovement:
    """Adjust the stock of one of ``product``'s variants (see ``stock_adjust``). Raises
    ``ValidationFailed`` naming ``variant_id`` when the variant is not this product's, or
    naming ``delta`` / ``reason``."""
    if not Variant.objects.filter(pk=variant_id, product=product).exists():
        raise ValidationFailed.for_field(
            "variant_id", "No such variant on this product.", "unknown_variant"
        )
    return stock_adjust(variant_id=variant_id, delta=delta, reason=reason, actor=actor, note=note)

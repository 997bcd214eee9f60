"""A client generated from each OpenAPI document works, as a storefront or a vendor
tool generated from our documents would: openapi-python-client builds a Python client
from ``/api/v1/schema/`` and one from ``/api/v2/openapi.json`` (once per module), and
the journeys below run through them over real HTTP against a served app and the
payment-provider sandbox.

- A vendor adds a product (v1) and restocks it.
- A customer registers (v2), verifies the address with the emailed code, browses,
  orders the product, pays on the sandbox's hosted page and reads the paid order.
- The vendor sees the paid line (v1) and fulfils it.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from django.core import mail
from django.test import Client

from apps.catalog.models import Colour
from apps.catalog.tests.factories import CategoryFactory
from apps.orders.models import Order, OrderStatus
from apps.payments.tests.conftest import payment_sandbox  # noqa: F401 - a fixture
from apps.vendors.tests.factories import StoreFactory, VendorFactory
from tools.sandbox import SandboxServer

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = {"fx_v1": "/api/v1/schema/?format=json", "fx_v2": "/api/v2/openapi.json"}
PASSWORD = "a-Strong-pass-9"  # the factories' password
CODE = re.compile(r"\b(\d{6})\b")


def _generate(document: dict[str, Any], package: Path) -> None:
    source = package.with_suffix(".json")
    source.write_text(json.dumps(document))
    config = package.parent / "generator.yml"
    config.write_text("post_hooks: []\n")  # no formatter run over the generated code
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [
            str(generator),
            "generate",
            f"--path={source}",
            f"--output-path={package}",
            "--meta=none",
            f"--config={config}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    # A warning means a part of the document the generator could not turn into code:
    # an operation or a schema left out of the client.
    assert result.returncode == 0 and "Warning" not in output, output


@pytest.fixture(scope="module")
def clients(
    tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any
) -> Iterator[dict[str, ModuleType]]:
    """The generated packages ``fx_v1`` and ``fx_v2``, importable."""
    root = tmp_path_factory.mktemp("generated")
    with django_db_blocker.unblock():
        for package, url in DOCUMENTS.items():
            response = Client().get(url)
            assert response.status_code == 200, response.content
            _generate(response.json(), root / package)
    sys.path.insert(0, str(root))
    try:
        yield {package: importlib.import_module(package) for package in DOCUMENTS}
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.split(".")[0] in DOCUMENTS:
                del sys.modules[name]


def _api(package: str, operation: str) -> Any:
    """The module of one operation: ``fx_v2.api.<tag>.<operation_id>``."""
    api = Path(importlib.import_module(f"{package}.api").__path__[0])
    (tag,) = [folder.name for folder in api.iterdir() if (folder / f"{operation}.py").exists()]
    return importlib.import_module(f"{package}.api.{tag}.{operation}")


def _model(package: str, name: str) -> Any:
    return getattr(importlib.import_module(f"{package}.models"), name)


def _call(package: str, operation: str, expect: int, **kwargs: Any) -> Any:
    """Call one operation; the answer has the expected status and parsed into the
    documented model (not None, not a Problem)."""
    response = _api(package, operation).sync_detailed(**kwargs)
    assert response.status_code == expect, (operation, response.status_code, response.content)
    assert response.parsed is not None, (operation, response.content)
    assert type(response.parsed).__name__ != "Problem", (operation, response.content)
    return response.parsed


def test_a_vendor_sells_and_a_customer_buys_and_pays_through_generated_clients(
    clients: dict[str, ModuleType],
    live_server: Any,
    payment_sandbox: SandboxServer,  # noqa: F811 - the fixture imported above
) -> None:
    fx_v1, fx_v2 = clients["fx_v1"], clients["fx_v2"]
    # Reference data the data migrations provide (a transactional test flushes them).
    Colour.objects.get_or_create(name="Black", defaults={"hex_code": "#000000"})
    category = CategoryFactory.create(name="Dresses", slug="dresses")
    StoreFactory.create(owner=VendorFactory.create(email="vic@example.com"))
    anonymous = fx_v2.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    # The vendor signs in (v2 tokens are accepted by v1), adds a product, restocks it.
    vendor_tokens = _call(
        "fx_v2",
        "login",
        200,
        client=anonymous,
        body=_model("fx_v2", "LoginIn")(email="vic@example.com", password=PASSWORD),
    )
    vendor = fx_v1.AuthenticatedClient(
        base_url=live_server.url, token=vendor_tokens.access, raise_on_unexpected_status=True
    )
    product = _call(
        "fx_v1",
        "vendor_products_create",
        201,
        client=vendor,
        body=_model("fx_v1", "VendorProductListInput")(
            name="Adire maxi dress",
            category_id=category.pk,
            variants=[
                _model("fx_v1", "VariantInput")(
                    sku="ADR-MAXI-M",
                    size=_model("fx_v1", "SizeEnum")("M"),
                    colour="Black",
                    price="25000.00",
                    stock=1,
                )
            ],
        ),
    )
    variant_id = product.variants[0].id
    restocked = _call(
        "fx_v1",
        "vendor_products_stock_create",
        201,
        client=vendor,
        product_id=product.id,
        body=_model("fx_v1", "StockAdjustInput")(
            variant_id=variant_id, delta=4, reason=_model("fx_v1", "ReasonEnum")("restock")
        ),
    )
    assert restocked.on_hand == 5

    # The customer registers and verifies the address with the emailed code.
    _call(
        "fx_v2",
        "register",
        201,
        client=anonymous,
        body=_model("fx_v2", "RegisterIn")(
            email="ada@example.com", password=PASSWORD, full_name="Ada Obi"
        ),
    )
    (email,) = [message for message in mail.outbox if "ada@example.com" in message.to]
    code = CODE.search(str(email.body))
    assert code, email.body
    tokens = _call(
        "fx_v2",
        "verify_email",
        200,
        client=anonymous,
        body=_model("fx_v2", "VerifyEmailIn")(email="ada@example.com", code=code.group(1)),
    )
    customer = fx_v2.AuthenticatedClient(
        base_url=live_server.url, token=tokens.access, raise_on_unexpected_status=True
    )

    # Browses, finds the dress, orders it.
    page = _call("fx_v2", "product_list", 200, client=customer, q="maxi")
    assert [item.id for item in page.items] == [product.id]
    detail = _call("fx_v2", "product_detail", 200, client=customer, product_id=product.id)
    assert [variant.id for variant in detail.variants] == [variant_id]
    order = _call(
        "fx_v2",
        "order_create",
        201,
        client=customer,
        body=_model("fx_v2", "OrderIn")(
            items=[_model("fx_v2", "OrderItemIn")(variant_id=variant_id, quantity=2)],
            delivery_address="12 Admiralty Way, Lekki Phase 1, Lagos",
        ),
    )
    assert order.status == "pending_payment"

    # Pays on the provider's hosted page, then asks for the outcome.
    payment = _call(
        "fx_v2",
        "payment_start",
        201,
        client=customer,
        order_id=order.id,
        body=_model("fx_v2", "PaymentStartIn")(
            provider=_model("fx_v2", "PaymentStartInProvider")("paystack")
        ),
    )
    paid = httpx.post(payment.authorization_url, data={"outcome": "success"}, timeout=20)
    assert paid.status_code == 200
    check = _call(
        "fx_v2",
        "payment_verify",
        200,
        client=customer,
        order_id=order.id,
        payment_id=payment.id,
    )
    assert check.payment.status == "succeeded"
    paid_order = _call("fx_v2", "order_get", 200, client=customer, order_id=order.id)
    assert paid_order.status == "paid"
    assert [p.status for p in paid_order.payments] == ["succeeded"]

    # The vendor sees the paid line and fulfils it.
    lines = _call("fx_v1", "vendor_order_lines_list", 200, client=vendor)
    (line,) = [line for line in lines.results if line.order_id == order.id]
    assert (line.quantity, line.order_status, line.fulfilled_at) == (2, "paid", None)
    fulfilled = _call(
        "fx_v1", "vendor_order_lines_fulfil_create", 200, client=vendor, line_id=line.id
    )
    assert fulfilled.fulfilled_at is not None
    assert Order.objects.get(pk=order.id).status == OrderStatus.FULFILLED
    shipped = _call("fx_v1", "vendor_products_retrieve", 200, client=vendor, product_id=product.id)
    assert (shipped.variants[0].on_hand, shipped.variants[0].reserved) == (3, 0)

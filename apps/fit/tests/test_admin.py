"""The admin: staff edit size charts (each row checked like the API checks it) and read
fit feedback and product fit summaries, which only customers write."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.fit.models import SizeChartRow
from apps.fit.services import fit_feedback_record
from apps.fit.tests.factories import make_size_chart, sized_product
from apps.returns.tests.factories import delivered_order
from apps.vendors.tests.factories import StaffFactory, StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    return client


def _row_form(chart_id: int, rows: list[SizeChartRow], **new: str) -> dict[str, str]:
    data = {
        "store": str(rows[0].chart.store_id),
        "category": "",
        "name": "Tops",
        "unit_note": "Body measurements",
        "rows-TOTAL_FORMS": str(len(rows) + 1),
        "rows-INITIAL_FORMS": str(len(rows)),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data |= {
            f"rows-{index}-id": str(row.pk),
            f"rows-{index}-chart": str(chart_id),
            f"rows-{index}-size": row.size,
            f"rows-{index}-position": str(row.position),
            f"rows-{index}-measurements": '{"chest": 90}',
        }
    last = len(rows)
    data |= {f"rows-{last}-chart": str(chart_id), f"rows-{last}-position": "9"}
    data |= {f"rows-{last}-{key}": value for key, value in new.items()}
    return data


def test_staff_edit_a_chart_and_a_bad_row_is_refused(admin_client: Client) -> None:
    chart = make_size_chart(store=StoreFactory.create())
    rows = list(chart.rows.all())
    url = f"/admin/fit/sizechart/{chart.pk}/change/"

    bad = admin_client.post(
        url, _row_form(chart.pk, rows, size="XL", measurements='{"wingspan": 190}')
    )
    good = admin_client.post(
        url, _row_form(chart.pk, rows, size="XL", measurements='{"chest": 112}')
    )

    assert bad.status_code == 200 and "Unknown measurement" in bad.content.decode()
    assert good.status_code == 302, good.content.decode()[:2000]
    assert chart.rows.get(size="XL").measurements == {"chest": 112}


def test_feedback_and_summaries_are_read_only(admin_client: Client) -> None:
    product = sized_product(store=StoreFactory.create())
    order = delivered_order([(product.variants.get(size="M"), 1)])
    feedback = fit_feedback_record(
        customer_id=order.customer_id, order_line_id=order.lines.get().pk, fit="runs_large"
    )

    listed = admin_client.get("/admin/fit/fitfeedback/")
    summaries = admin_client.get("/admin/fit/productfit/")
    one = admin_client.get(f"/admin/fit/fitfeedback/{feedback.pk}/change/")

    assert listed.status_code == summaries.status_code == one.status_code == 200
    assert "Runs large" in listed.content.decode()
    assert 'name="_save"' not in one.content.decode()
    assert admin_client.get("/admin/fit/fitfeedback/add/").status_code == 403

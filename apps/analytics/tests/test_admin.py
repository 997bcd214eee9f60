"""The admin sales dashboard: linked from the index, it shows the headline figures, one
SVG bar per period whose values and heights are the series', the top products and
stores, and the scorecards sorted by the column asked for. The reports list opens."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from apps.analytics.charts import BOTTOM, HEIGHT, TOP
from apps.analytics.models import SalesReport
from apps.analytics.selectors import sales_figures
from apps.analytics.tests.conftest import History
from apps.authentication.models import User
from apps.vendors.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/analytics/salesdashboard/"
RANGE = {"start_date": "2026-01-05", "end_date": "2026-01-18"}
RECT = re.compile(r'<rect class="bar" ([^>]*)>')
ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')


@pytest.fixture
def admin_client(client: Client) -> Client:
    staff: User = StaffFactory.create(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


def _bars(html: str) -> list[dict[str, str]]:
    return [dict(ATTRIBUTE.findall(match)) for match in RECT.findall(html)]


def _store_order(html: str) -> list[int]:
    table = html.split('<table class="scorecards">', 1)[1]
    return [int(store) for store in re.findall(r'<tr data-store="(\d+)">', table)]


def test_the_index_links_to_the_dashboard(admin_client: Client) -> None:
    index = admin_client.get("/admin/")

    assert f'href="{DASHBOARD}"' in index.content.decode()
    assert admin_client.get(DASHBOARD).status_code == 200  # the last 30 days by default


def test_the_chart_has_one_bar_per_period_with_the_series_values(
    admin_client: Client, history: History
) -> None:
    response = admin_client.get(DASHBOARD, {**RANGE, "group_by": "day"})

    assert response.status_code == 200
    html = response.content.decode()
    series = sales_figures(scope=history.scope("day"))[0]["series"]
    bars = _bars(html)
    assert [(bar["data-period"], bar["data-value"]) for bar in bars] == [
        (point["period"], point["net_revenue"]) for point in series
    ]
    # Heights in proportion to the values: the largest day (275.00) fills the plot.
    plot = HEIGHT - TOP - BOTTOM
    for bar, point in zip(bars, series, strict=True):
        expected = float(Decimal(point["net_revenue"]) / Decimal("275.00")) * plot
        assert float(bar["height"]) == pytest.approx(expected, abs=0.01)
        assert float(bar["y"]) + float(bar["height"]) == pytest.approx(TOP + plot, abs=0.01)
    assert "<script" not in html.split('<div id="content-main">', 1)[1]


def test_the_headline_and_the_top_tables(admin_client: Client, history: History) -> None:
    html = admin_client.get(DASHBOARD, {**RANGE, "group_by": "week"}).content.decode()

    assert "Net revenue<strong>485.00</strong>" in html
    assert "Orders<strong>6</strong>" in html
    assert len(_bars(html)) == 2
    products = html.split('<table class="top-products">', 1)[1].split("</table>", 1)[0]
    assert products.count("<tr><td>") == 3
    stores = html.split('<table class="top-stores">', 1)[1].split("</table>", 1)[0]
    assert stores.index("Adire House") < stores.index("Bella Shoes")


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("median_hours_to_fulfil", ["a", "b"]),  # 20 h, 35 h
        ("-median_hours_to_fulfil", ["b", "a"]),
        ("cancellation_rate", ["b", "a"]),  # 0 %, 20 %
        ("-paid_orders", ["a", "b"]),  # 4, 3
        ("store_name", ["a", "b"]),
        ("-store_name", ["b", "a"]),
    ],
)
def test_the_scorecards_sort_by_the_column_asked_for(
    admin_client: Client, history: History, sort: str, order: list[str]
) -> None:
    stores = {"a": history.store_a.pk, "b": history.store_b.pk}

    html = admin_client.get(DASHBOARD, {**RANGE, "group_by": "week", "sort": sort}).content.decode()

    assert _store_order(html) == [stores[name] for name in order]


def test_a_column_header_sorts_by_it_and_then_the_other_way(
    admin_client: Client, history: History
) -> None:
    first = admin_client.get(DASHBOARD, {**RANGE, "sort": "refund_rate"}).content.decode()

    link = re.search(r'<a href="\?([^"]*)" data-sort="refund_rate">', first)
    assert link is not None
    assert "sort=-refund_rate" in link.group(1).replace("&amp;", "&")


def test_a_bad_range_is_shown_on_the_form(admin_client: Client) -> None:
    response = admin_client.get(
        DASHBOARD, {"start_date": "2026-02-01", "end_date": "2026-01-01", "group_by": "day"}
    )

    assert response.status_code == 200
    assert "Must not be before start_date." in response.content.decode()
    assert _bars(response.content.decode()) == []


def test_the_reports_list_and_a_report_open(admin_client: Client, history: History) -> None:
    report = SalesReport.objects.create(
        start_date=history.scope().start,
        end_date=history.scope().end,
        time_zone="Africa/Lagos",
        result={"sales": []},
    )

    assert admin_client.get("/admin/analytics/salesreport/").status_code == 200
    page = admin_client.get(f"/admin/analytics/salesreport/{report.pk}/change/")
    assert page.status_code == 200
    assert "&quot;sales&quot;: []" in page.content.decode()


def test_staff_without_admin_access_are_sent_to_the_login(client: Client) -> None:
    client.force_login(StaffFactory.create())

    assert client.get(DASHBOARD).status_code == 302

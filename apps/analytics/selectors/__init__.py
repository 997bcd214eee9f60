"""Reads for analytics: sales figures, vendor scorecards, reports."""

from apps.analytics.selectors.reports import (
    CSV_HEADER,
    report_scope,
    report_store_for_user,
    sales_report_csv_rows,
    sales_report_data,
    sales_report_filename,
    sales_report_get_for_user,
    store_scorecards_for_user,
)
from apps.analytics.selectors.sales import PAID_STATUSES, sales_figures
from apps.analytics.selectors.scorecards import SORT_KEYS, sort_scorecards, store_scorecards

__all__ = [
    "CSV_HEADER",
    "PAID_STATUSES",
    "SORT_KEYS",
    "report_scope",
    "report_store_for_user",
    "sales_figures",
    "sales_report_csv_rows",
    "sales_report_data",
    "sales_report_filename",
    "sales_report_get_for_user",
    "sort_scorecards",
    "store_scorecards",
    "store_scorecards_for_user",
]

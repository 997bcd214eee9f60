"""v2 (async): a product's size and fit — size chart, fit signal, size advice — and the
customer's fit feedback on a delivered order line. Each endpoint is one hop into one
sync call."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from apps.authentication.apis.ninja_auth import bearer_auth, optional_bearer_auth
from apps.authentication.tokens import AccessPrincipal
from apps.common.apis.ninja_schemas import Problem
from apps.common.db import in_thread
from apps.fit.models import FitFeedback
from apps.fit.selectors import order_line_of_order, product_fit_public
from apps.fit.services import fit_feedback_record

router = Router(tags=["fit"])

FitChoice = Literal["runs_small", "true_to_size", "runs_large"]


class MeasurementOut(Schema):
    name: str = Field(description="chest, waist, hips, inseam, foot_length …")
    cm: float
    inches: float = Field(description="cm / 2.54, one decimal.")


class SizeRowOut(Schema):
    size: str
    measurements: list[MeasurementOut]


class ShoeSizeOut(Schema):
    eu: str
    uk: str
    us_men: str
    us_women: str
    foot_length_cm: float
    foot_length_in: float


class ProductSizeChartOut(Schema):
    id: int
    name: str
    category_id: int | None = Field(description="Null: the store's default chart.")
    applies: Literal["category", "ancestor", "default"] = Field(
        description="Chart of the product's category, of its nearest parent category with "
        "one, or the store's default."
    )
    unit_note: str
    measurements: list[str]
    rows: list[SizeRowOut]
    shoe_sizes: list[ShoeSizeOut] | None = Field(
        description="EU / UK / US conversions, for charts of shoe sizes or foot length."
    )


class FitCountsOut(Schema):
    runs_small: int
    true_to_size: int
    runs_large: int


class FitSignalOut(Schema):
    answers: int
    counts: FitCountsOut
    percent: FitCountsOut = Field(description="Whole percents of the answers.")
    verdict: FitChoice = Field(description="The answer with the most votes (a tie: true to size).")
    summary: str = Field(description='e.g. "62 % say it runs small (13 answers)".')


class SizeAdviceOut(Schema):
    size: str | None = Field(description="The size advised; null when there is none.")
    reason: str
    basis: Literal["store", "category"] | None = Field(
        description="Kept purchases of this store in the category, or of any store."
    )
    usual_size: str | None
    adjusted: bool = Field(description="Moved one size because of the product's fit signal.")


class ProductFitOut(Schema):
    product_id: int
    size_chart: ProductSizeChartOut | None
    fit: FitSignalOut | None = Field(description="Null below min_answers answers.")
    min_answers: int
    advice: SizeAdviceOut | None = Field(description="Signed-in customers only.")


class FitIn(Schema):
    fit: FitChoice


class FitFeedbackOut(Schema):
    order_id: int
    line_id: int
    product_id: int
    size: str
    fit: FitChoice
    updated_at: datetime


def _user_id(request: HttpRequest) -> int | None:
    principal: Any = request.auth  # type: ignore[attr-defined]
    return principal.user_id if principal is not None else None


def _record(customer_id: int, order_id: int, line_id: int, fit: str) -> dict[str, Any]:
    order_line_of_order(customer_id=customer_id, order_id=order_id, line_id=line_id)
    feedback: FitFeedback = fit_feedback_record(
        customer_id=customer_id, order_line_id=line_id, fit=fit
    )
    return {
        "order_id": order_id,
        "line_id": line_id,
        "product_id": feedback.product_id,
        "size": feedback.size,
        "fit": feedback.fit,
        "updated_at": feedback.updated_at,
    }


@router.get(
    "/products/{product_id}/fit/",
    response={200: ProductFitOut, 404: Problem, 422: Problem},
    auth=optional_bearer_auth,
    summary="A product's size and fit",
    operation_id="product_fit_get",
)
async def product_fit_get(request: HttpRequest, product_id: int) -> dict[str, Any]:
    """The size chart that applies to the product (cm and inches), its fit signal (null
    below ``min_answers`` answers) and, signed in, size advice from the sizes you kept
    (null for anonymous callers). 404 for an unknown or hidden product."""
    return await in_thread(product_fit_public, product_id=product_id, customer_id=_user_id(request))


@router.put(
    "/orders/{order_id}/lines/{line_id}/fit/",
    response={200: FitFeedbackOut, 404: Problem, 409: Problem, 422: Problem},
    auth=bearer_auth,
    summary="Say how a size fits",
    operation_id="order_line_fit_set",
)
async def order_line_fit_set(
    request: HttpRequest, order_id: int, line_id: int, payload: FitIn
) -> dict[str, Any]:
    """How the size of a delivered line of your order fits: ``runs_small``,
    ``true_to_size`` or ``runs_large``. One answer per line; sending again replaces it.
    409 ``not_delivered`` before the parcel arrived; 404 for another customer's line."""
    principal: AccessPrincipal = request.auth  # type: ignore[attr-defined]
    return await in_thread(_record, principal.user_id, order_id, line_id, payload.fit)

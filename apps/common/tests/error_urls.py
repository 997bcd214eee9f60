"""A URLconf used only by the error-format tests: one endpoint per failure kind, served by
a Ninja API and DRF views wired exactly like the real ones."""

from django.urls import path
from ninja import NinjaAPI, Schema
from pydantic import Field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.apis.ninja_errors import install_problem_handlers
from apps.common.errors import Conflict, RateLimited

api = NinjaAPI(urls_namespace="errors-test", docs_url=None)
install_problem_handlers(api)


class LineIn(Schema):
    variant_id: int
    quantity: int = Field(ge=1, le=1000)


class OrderIn(Schema):
    items: list[LineIn] = Field(min_length=1)
    delivery_address: str = Field(min_length=10)


@api.post("/orders/")
async def create(request: object, payload: OrderIn) -> dict[str, int]:
    return {"lines": len(payload.items)}


@api.get("/conflict/")
async def conflict(request: object) -> None:
    raise Conflict("Not enough stock", code="insufficient_stock", details={"lines": [0]})


@api.get("/limited/")
async def limited(request: object) -> None:
    raise RateLimited(retry_after=42)


@api.get("/boom/")
async def boom(request: object) -> None:
    raise RuntimeError("database password is hunter2")


class DrfOrderApi(APIView):
    permission_classes = [AllowAny]

    class LineSerializer(serializers.Serializer):
        variant_id = serializers.IntegerField()
        quantity = serializers.IntegerField(min_value=1, max_value=1000)

    class InputSerializer(serializers.Serializer):
        items = serializers.ListField(child=serializers.DictField(), min_length=1)
        delivery_address = serializers.CharField(min_length=10)

        def validate_items(self, items: list[dict[str, object]]) -> list[dict[str, object]]:
            serializer = DrfOrderApi.LineSerializer(data=items, many=True)
            serializer.is_valid(raise_exception=True)
            return items

    def post(self, request: Request) -> Response:
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class DrfConflictApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise Conflict("Not enough stock", code="insufficient_stock", details={"lines": [0]})


class DrfBoomApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("database password is hunter2")


class DrfPrivateApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"secret": True})


urlpatterns = [
    path("api/v2/", api.urls),
    path("api/v1/orders/", DrfOrderApi.as_view()),
    path("api/v1/conflict/", DrfConflictApi.as_view()),
    path("api/v1/boom/", DrfBoomApi.as_view()),
    path("api/v1/private/", DrfPrivateApi.as_view()),
]

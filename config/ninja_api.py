"""The v2 API (Django Ninja, async): one NinjaAPI, one router per domain."""

from typing import Any

from ninja import NinjaAPI, Swagger
from ninja.constants import NOT_SET
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from apps.addresses.apis.ninja_router import router as addresses_router
from apps.authentication.apis.ninja_router import router as accounts_router
from apps.catalog.apis.ninja_router import router as catalog_router
from apps.common.apis.json_response import ApiJSONRenderer
from apps.common.apis.ninja_errors import install_problem_handlers
from apps.common.apis.ninja_parser import JsonObjectParser
from apps.common.apis.ninja_router import router as meta_router
from apps.common.apis.openapi import document_problems, operations
from apps.common.apis.throttles import NinjaRateThrottle
from apps.fit.apis.ninja_router import router as fit_router
from apps.orders.apis.ninja_router import router as orders_router
from apps.payments.apis.ninja_router import router as payments_router
from apps.returns.apis.ninja_router import router as returns_router
from apps.shipping.apis.ninja_router import router as shipping_router


class ProblemDocumentedAPI(NinjaAPI):
    """Ninja, with every error response documented as ``application/problem+json`` and
    the errors every operation can answer (``apps.common.apis.openapi``).

    Operation ids are short and stable — the endpoint function's name, or the
    ``operation_id`` an operation declares (``order_create``) — not Ninja's module-path
    default: generated clients turn them into function names."""

    def get_openapi_operation_id(self, operation: Operation) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # An operation declared with ``throttle=[]`` opts out of the API's default limit.
        unthrottled_ids = {
            operation.operation_id or self.get_openapi_operation_id(operation)
            for _prefix, router in self._routers
            for path_view in router.path_operations.values()
            for operation in path_view.operations
            if operation.throttle_param is not NOT_SET and not operation.throttle_param
        }
        unthrottled = {
            (path, method)
            for path, method, operation in operations(document)
            if operation.get("operationId") in unthrottled_ids
        }
        document_problems(document, unthrottled=unthrottled)
        return document


api = ProblemDocumentedAPI(
    title="FASHIONISTAR API v2",
    version="2.0.0",
    description="Customer API: accounts, catalogue, orders, payments, provider webhooks.",
    urls_namespace="api-v2",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
    docs_url="/docs/",
    openapi_url="/openapi.json",
    throttle=[NinjaRateThrottle()],
    parser=JsonObjectParser(),
    renderer=ApiJSONRenderer(),
)
install_problem_handlers(api)

api.add_router("/", meta_router)
api.add_router("/", accounts_router)
api.add_router("/", catalog_router)
api.add_router("/", orders_router)
api.add_router("/", addresses_router)
api.add_router("/", shipping_router)
api.add_router("/", returns_router)
api.add_router("/", fit_router)
api.add_router("/", payments_router)

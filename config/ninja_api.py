"""The v2 API (Django Ninja, async): one NinjaAPI, one router per domain."""

from ninja import NinjaAPI, Swagger

from apps.authentication.apis.ninja_router import router as accounts_router
from apps.catalog.apis.ninja_router import router as catalog_router
from apps.common.apis.ninja_errors import install_problem_handlers
from apps.common.apis.ninja_parser import JsonObjectParser
from apps.common.apis.ninja_router import router as meta_router
from apps.common.apis.throttles import NinjaRateThrottle
from apps.orders.apis.ninja_router import router as orders_router
from apps.payments.apis.ninja_router import router as payments_router

api = NinjaAPI(
    title="FASHIONISTAR API v2",
    version="2.0.0",
    description="Customer API: accounts, catalogue, orders, payments, provider webhooks.",
    urls_namespace="api-v2",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
    docs_url="/docs/",
    openapi_url="/openapi.json",
    throttle=[NinjaRateThrottle()],
    parser=JsonObjectParser(),
)
install_problem_handlers(api)

api.add_router("/", meta_router)
api.add_router("/", accounts_router)
api.add_router("/", catalog_router)
api.add_router("/", orders_router)
api.add_router("/", payments_router)

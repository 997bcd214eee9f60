"""Both API docs pages work offline: every asset they load comes from this server."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/api/v2/docs/", "/api/v1/docs/"])
def test_docs_page_loads_only_local_assets(client: Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()

    assets = ASSET.findall(html)
    assert assets, "the page should reference its Swagger UI bundle"
    external = [url for url in assets if re.match(r"^(https?:)?//", url)]
    assert external == []
    for url in assets:
        assert client.get(url).status_code == 200, f"{url} is not served locally"


@pytest.mark.parametrize("path", ["/api/v2/docs/", "/api/v1/docs/"])
def test_docs_scripts_load_no_external_urls(client: Client, path: str) -> None:
    """The init scripts must not point Swagger UI at a CDN or the online validator."""
    html = client.get(path).content.decode()
    for url in ASSET.findall(html):
        if url.endswith(".js") and "bundle" not in url and "standalone" not in url:
            found = finders.find(url.removeprefix(settings.STATIC_URL))
            assert found, f"{url} is not a static file of this project"
            body = Path(str(found)).read_bytes()
            assert not re.search(rb"https?://(?!swagger\.io)", body), url


def test_openapi_specs_are_served(client: Client) -> None:
    v2 = client.get("/api/v2/openapi.json")
    v1 = client.get("/api/v1/schema/", headers={"Accept": "application/json"})

    assert v2.status_code == 200
    assert "/api/v2/meta/" in v2.json()["paths"]
    assert v1.status_code == 200
    assert b"/api/v1/meta/" in v1.content


@pytest.mark.django_db
def test_the_operations_index_of_the_api_manual_is_current(client: Client) -> None:
    from apps.common.apis.reference import manual_path, manual_with_index, operations_index

    # Built from the documents as the app serves them, not from their generators.
    documents = {
        "v1": client.get("/api/v1/schema/?format=json").json(),
        "v2": client.get("/api/v2/openapi.json").json(),
    }
    manual = manual_path().read_text()

    assert manual_with_index(manual, operations_index(documents)) == manual, (
        "docs/api.md does not list the operations the documents have: "
        "run `python manage.py api_reference`"
    )
    assert "`order_create` | `POST /api/v2/orders/`" in manual

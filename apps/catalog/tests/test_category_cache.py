"""The category rows are served from the cache, and every way of changing a category —
the admin, the service, any ORM write, in this process or another one sharing the cache —
is visible on the next read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import CATEGORY_CACHE_VERSION_KEY, Category, catalogue_cache
from apps.catalog.selectors import (
    CATEGORY_ROWS_CACHE_KEY,
    category_rows,
    category_tree,
    product_list_public,
)
from apps.catalog.services import category_create
from apps.catalog.tests.factories import CategoryFactory, make_product
from apps.vendors.tests.factories import StaffFactory
from conftest import JsonLogs

pytestmark = pytest.mark.django_db


def _reads(func: Callable[[], Any]) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        result = func()
    return result, len(queries)


def _names() -> set[str]:
    def walk(nodes: list[dict[str, Any]]) -> list[str]:
        return [name for node in nodes for name in [node["name"], *walk(node["children"])]]

    return set(walk(category_tree()))


def test_the_tree_is_read_once_then_served_from_the_cache() -> None:
    women = CategoryFactory.create(name="Women", slug="women")
    CategoryFactory.create(name="Dresses", slug="dresses", parent=women)

    first, first_queries = _reads(category_tree)
    second, second_queries = _reads(category_tree)

    assert (first_queries, second_queries) == (1, 0)
    assert first == second
    assert second[0]["children"][0]["slug"] == "dresses"


def _save(category: Category) -> None:
    category.name = "Renamed"
    category.save()


def _update(category: Category) -> None:
    Category.objects.filter(pk=category.pk).update(name="Renamed")


def _bulk_update(category: Category) -> None:
    category.name = "Renamed"
    Category.objects.bulk_update([category], ["name"])


def _bulk_create(category: Category) -> None:
    Category.objects.bulk_create([Category(name="Renamed", slug="renamed", parent=category)])


def _service(category: Category) -> None:
    category_create(name="Renamed", parent=category)


def _get_or_create(category: Category) -> None:
    Category.objects.get_or_create(slug="renamed", defaults={"name": "Renamed"})


@pytest.mark.parametrize(
    "write", [_save, _update, _bulk_update, _bulk_create, _service, _get_or_create]
)
def test_a_write_is_visible_on_the_next_read(write: Callable[[Category], None]) -> None:
    category = CategoryFactory.create(name="Original", slug="original")
    assert _names() == {"Original"}

    write(category)

    names, queries = _reads(_names)
    assert "Renamed" in names
    assert queries == 1


def test_deletes_are_visible_on_the_next_read() -> None:
    CategoryFactory.create(name="Kept", slug="kept")
    gone = CategoryFactory.create(name="Gone", slug="gone")
    other = CategoryFactory.create(name="Also gone", slug="also-gone")
    assert _names() == {"Kept", "Gone", "Also gone"}

    gone.delete()
    assert _names() == {"Kept", "Also gone"}
    Category.objects.filter(pk=other.pk).delete()
    assert _names() == {"Kept"}


def test_an_admin_edit_is_visible_on_the_next_read(client: Client) -> None:
    client.force_login(StaffFactory.create(is_staff=True, is_superuser=True))
    women = CategoryFactory.create(name="Women", slug="women")
    assert _names() == {"Women"}

    response = client.post(
        f"/admin/catalog/category/{women.pk}/change/",
        {"name": "Womenswear", "slug": "womenswear", "parent": "", "position": "0"},
    )

    assert response.status_code == 302
    assert _names() == {"Womenswear"}
    assert [node["slug"] for node in client.get("/api/v2/categories/").json()] == ["womenswear"]


def test_the_category_filter_uses_the_cached_rows_and_sees_new_subcategories() -> None:
    women = CategoryFactory.create(name="Women", slug="women")
    make_product(name="Wrap dress", category=CategoryFactory.create(slug="wrap", parent=women))

    cold, cold_queries = _reads(lambda: product_list_public(category="women"))
    warm, warm_queries = _reads(lambda: product_list_public(category="women"))
    make_product(name="Maxi dress", category=CategoryFactory.create(slug="maxi", parent=women))
    after, after_queries = _reads(lambda: product_list_public(category="women"))

    assert (cold_queries, warm_queries, after_queries) == (3, 2, 3)
    assert cold == warm
    assert [item["name"] for item in after["items"]] == ["Maxi dress", "Wrap dress"]


def test_rows_cached_before_the_commit_are_dropped_when_the_write_commits(
    django_capture_on_commit_callbacks: Any,
) -> None:
    category = CategoryFactory.create(name="Before", slug="before")
    stale = category_rows()

    with django_capture_on_commit_callbacks(execute=True):
        category.name = "After"
        category.save()
        # A reader in another process read the table before this transaction committed,
        # after the first stamp, and cached what it saw under that stamp.
        cache = catalogue_cache()
        cache.set(CATEGORY_ROWS_CACHE_KEY, (cache.get(CATEGORY_CACHE_VERSION_KEY), stale))
        assert _names() == {"Before"}

    assert _names() == {"After"}


def test_without_a_version_stamp_the_rows_are_read_again() -> None:
    CategoryFactory.create(name="Original", slug="original")
    category_rows()
    catalogue_cache().delete(CATEGORY_CACHE_VERSION_KEY)  # evicted

    names, queries = _reads(_names)

    assert (names, queries) == ({"Original"}, 1)
    assert _reads(_names)[1] == 0


def test_an_unreachable_cache_serves_categories_from_the_database(json_logs: JsonLogs) -> None:
    CategoryFactory.create(name="Women", slug="women")
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    with override_settings(CACHES=down):
        names, queries = _reads(_names)

    assert (names, queries) == ({"Women"}, 1)
    assert any(line["message"] == "catalog.category_cache_unavailable" for line in json_logs())


_OTHER_PROCESS = """
import sys
import django
django.setup()
from apps.catalog.models import Category
category = Category.objects.get(slug=sys.argv[1])
category.name = sys.argv[2]
category.save()
"""


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_edit_made_by_another_process_is_seen_on_the_next_read() -> None:
    CategoryFactory.create(name="Women", slug="women")
    assert _names() == {"Women"}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": url,
        "DATABASE_POOL_MIN_SIZE": "1",
    }

    subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, "women", "Womenswear"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        timeout=60,
    )

    assert _names() == {"Womenswear"}

"""Environment-driven settings: embedded defaults, switches, and production's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.env import Env, database_from_url, mailer_from_url

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-" + "x7Q!z" * 4,
    "DJANGO_ALLOWED_HOSTS": "api.fashionistar.dev,www.fashionistar.dev",
    "DATABASE_URL": "postgres://app:secret@db:5432/fashionistar",
    "REDIS_URL": "redis://cache:6379/0",
    "EMAIL_URL": "smtp://mailer:pass@smtp.fashionistar.dev:587",
    "PAYSTACK_SECRET_KEY": "sk_live_paystack_from_the_vault",
    "STRIPE_SECRET_KEY": "sk_live_stripe_from_the_vault",
    "STRIPE_WEBHOOK_SECRET": "whsec_from_the_vault",
    "SQUARE_ACCESS_TOKEN": "square-token-from-the-vault",
    "SQUARE_WEBHOOK_SIGNATURE_KEY": "square-signature-key-from-the-vault",
    "SQUARE_WEBHOOK_URL": "https://api.fashionistar.dev/api/v2/webhooks/square/",
    "SQUARE_LOCATION_ID": "L123",
    "METRICS_TOKEN": "metrics-scrape-token-from-the-vault-4f9c2a",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Env.model_fields:
        monkeypatch.delenv(name, raising=False)

    env = Env()

    assert env.DATABASE_URL == ""
    assert env.REDIS_URL == ""
    assert mailer_from_url("", env.VAR_DIR)["OPTIONS"]["file_path"].endswith("var/mail")


def test_postgres_url_gets_a_pool_and_pgbouncer_mode_disables_it() -> None:
    url = "postgres://app:s%40cret@db.internal:6432/shop"

    pooled = database_from_url(url, pool_min=2, pool_max=30, pool_timeout=5, pgbouncer=False)
    bounced = database_from_url(url, pool_min=2, pool_max=30, pool_timeout=5, pgbouncer=True)

    assert pooled["PASSWORD"] == "s@cret"
    assert pooled["OPTIONS"]["pool"]["max_size"] == 30
    assert "pool" not in bounced["OPTIONS"]
    assert bounced["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert bounced["OPTIONS"]["prepare_threshold"] is None


def test_unknown_database_scheme_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL"):
        Env(DATABASE_URL="mysql://root@localhost/shop")


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "STRIPE_WEBHOOK_SECRET"],
)
def test_production_refuses_to_start_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", **env)

    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_production_refuses_a_weak_secret_key() -> None:
    result = manage("check", **{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "short"})

    assert result.returncode != 0
    assert "at least 50" in result.stderr


@pytest.fixture(scope="module")
def collected_var_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A VAR_DIR whose static/ holds what `collectstatic` writes (as in the image)."""
    var_dir = str(tmp_path_factory.mktemp("var"))
    result = manage("collectstatic", "--noinput", **PRODUCTION_ENV, VAR_DIR=var_dir)
    assert result.returncode == 0, result.stderr
    return var_dir


def test_production_passes_the_deploy_check_without_warnings(collected_var_dir: str) -> None:
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, VAR_DIR=collected_var_dir
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_fails_when_static_files_were_not_collected(tmp_path: Path) -> None:
    result = manage("check", "--deploy", **PRODUCTION_ENV, VAR_DIR=str(tmp_path))

    assert result.returncode != 0
    assert "fashionistar.static.E001" in result.stderr
    assert "collectstatic" in result.stderr


# Without collectstatic the admin and the API docs still answer, their assets served
# unhashed from the apps' folders (apps.common.staticfiles).
PAGES_WITHOUT_COLLECTSTATIC = """
import re
from django.test import Client

client = Client(HTTP_HOST="api.fashionistar.dev")
for path in ("/admin/login/", "/api/v2/docs", "/api/v1/docs/"):
    page = client.get(path, secure=True, follow=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"?]+)', page.content.decode())
    served = [client.get(asset, secure=True).status_code for asset in assets]
    print(path, page.status_code, len(assets), sorted(set(served)))
"""


def test_without_collectstatic_the_admin_and_the_docs_still_work(tmp_path: Path) -> None:
    result = manage(
        "shell",
        "-c",
        PAGES_WITHOUT_COLLECTSTATIC,
        **{
            **PRODUCTION_ENV,
            "VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "LOG_FORMAT": "json",
        },
    )

    assert result.returncode == 0, result.stderr
    printed = [line for line in result.stdout.splitlines() if line.startswith("/")]
    pages = {line.split()[0]: line.split(maxsplit=3)[1:] for line in printed}
    for path in ("/admin/login/", "/api/v2/docs", "/api/v1/docs/"):
        status, assets, served = pages[path]
        assert status == "200", path
        assert int(assets) > 0, path
        assert served == "[200]", path
    assert '"static.not_collected"' in result.stdout + result.stderr


def test_production_refuses_a_missing_or_weak_metrics_token() -> None:
    missing = {k: v for k, v in PRODUCTION_ENV.items() if k != "METRICS_TOKEN"}

    without = manage("check", **missing)
    weak = manage("check", **{**PRODUCTION_ENV, "METRICS_TOKEN": "changeme"})

    assert without.returncode != 0
    assert "METRICS_TOKEN must be set in production" in without.stderr
    assert weak.returncode != 0
    assert "METRICS_TOKEN must be at least 32" in weak.stderr


def test_production_serves_metrics_without_a_token_only_when_told_they_are_public() -> None:
    missing = {k: v for k, v in PRODUCTION_ENV.items() if k != "METRICS_TOKEN"}

    result = manage("check", **missing, METRICS_PUBLIC="true")

    assert result.returncode == 0, result.stderr


def test_production_needs_secrets_only_for_the_enabled_providers() -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if not k.startswith(("STRIPE", "SQUARE"))}

    result = manage("check", **env, PAYMENT_PROVIDERS="paystack")

    assert result.returncode == 0, result.stderr

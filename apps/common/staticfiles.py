"""Static files in production: hashed and compressed by ``collectstatic``, and no
outage when that step was skipped.

``ManifestStaticFilesStorage`` answers every ``{% static %}`` with a 500 when
``collectstatic`` never ran (no manifest): the admin and the API docs would be down
while the JSON API is fine. This storage then hands out the plain file names instead,
which servestatic serves from the apps' own folders (production settings turn its
finders on when the manifest is missing), logs the missing step once, and
``manage.py check --deploy`` fails on it (``fashionistar.static.E001``), so a pipeline that runs
the check never ships it.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.files.storage import storages
from servestatic.storage import CompressedManifestStaticFilesStorage

logger = structlog.get_logger(__name__)

COLLECT_HINT = (
    "Run `python manage.py collectstatic --noinput` with the production settings "
    "(deploy/Dockerfile does it when it builds the image)."
)


class CollectedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """servestatic's compressed manifest storage, answering plain names while there is
    no manifest (see the module's docstring)."""

    _reported = False

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:  # loaded from the manifest: empty when there is none
            if not CollectedStaticFilesStorage._reported:
                CollectedStaticFilesStorage._reported = True
                logger.error(
                    "static.not_collected",
                    manifest=self.path(self.manifest_name),
                    hint=COLLECT_HINT,
                )
            return name
        return super().stored_name(name)


@register(Tags.staticfiles, deploy=True)
def static_files_collected(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy``: a manifest storage needs ``collectstatic`` to have run."""
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin) or storage.read_manifest() is not None:
        return []
    return [
        Error(
            f"Static files are not collected: {storage.path(storage.manifest_name)} is "
            "missing. The admin and the API docs fall back to unhashed files served from "
            "the apps' folders.",
            hint=COLLECT_HINT,
            id="fashionistar.static.E001",
        )
    ]

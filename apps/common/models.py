"""Abstract models every domain builds on."""

from django.db import models


class BaseModel(models.Model):
    """Creation and last-update timestamps (timezone-aware, set by the database layer)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

"""Admin actions that ask staff for a reason first (an intermediate page with a form),
then call a service per selected row and report each outcome; read-only model admins."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.common.errors import ApplicationError


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=255, help_text="Recorded with your name.")


class ReadOnlyAdmin[M: Model](admin.ModelAdmin[M]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


def form_or_page(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    form_class: type[forms.Form],
    title: str,
) -> forms.Form | TemplateResponse:
    """The bound, valid form once submitted; until then the page asking for it."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            return form
    else:
        form = form_class()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "queryset": queryset,
        "action": request.POST.get("action", ""),
    }
    return TemplateResponse(request, "admin/action_form.html", context)


def apply_each(
    model_admin: admin.ModelAdmin[Any], request: HttpRequest, label: str, call: Any
) -> None:
    try:
        call()
    except ApplicationError as error:
        model_admin.message_user(request, f"{label}: {error.message}", messages.WARNING)
    else:
        model_admin.message_user(request, f"{label}: done.", messages.SUCCESS)

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.authentication.models import AuthSession, OneTimeCode, User
from apps.authentication.services import session_revoke, sessions_revoke_for_user


class UserCreateForm(BaseUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email", "full_name", "role")


class UserEditForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = UserCreateForm
    form = UserEditForm
    ordering = ("-date_joined",)
    list_display = (
        "email",
        "full_name",
        "role",
        "is_email_verified",
        "is_two_factor_enabled",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("role", "is_email_verified", "is_two_factor_enabled", "is_active", "is_staff")
    search_fields = ("email", "full_name")
    readonly_fields = ("date_joined", "last_login", "created_at", "updated_at")
    actions = ("sign_out_everywhere",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "role")}),
        ("Verification", {"fields": ("is_email_verified", "is_two_factor_enabled")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "role", "password1", "password2"),
            },
        ),
    )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # A disabled account must lose its live tokens, not only future logins.
            sessions_revoke_for_user(user_id=obj.pk, reason="deactivated")

    @admin.action(description="Sign out of every session")
    def sign_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(
            sessions_revoke_for_user(user_id=pk, reason="staff")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Ended {ended} session(s).", messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin[AuthSession]):
    list_display = (
        "user",
        "created_at",
        "last_refreshed_at",
        "revoked_at",
        "revoke_reason",
        "ip_address",
    )
    list_filter = ("revoke_reason", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__email", "ip_address")
    list_select_related = ("user",)
    readonly_fields = [field.name for field in AuthSession._meta.fields]
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected sessions")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AuthSession]) -> None:
        ended = sum(
            session_revoke(session_id=pk, reason="staff")
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Revoked {ended} session(s).", messages.SUCCESS)


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin[OneTimeCode]):
    """Read-only: support can see whether a code was sent, used or burnt (never the code)."""

    list_display = (
        "email",
        "purpose",
        "created_at",
        "expires_at",
        "used_at",
        "failed_attempts",
        "user",
    )
    list_filter = ("purpose", ("used_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    list_select_related = ("user",)
    fields = (
        "email",
        "user",
        "purpose",
        "created_at",
        "expires_at",
        "used_at",
        "superseded_at",
        "failed_attempts",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OneTimeCode | None = None) -> bool:
        return False

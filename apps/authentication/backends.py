"""Email + password authentication; the address is matched regardless of case."""

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Django's model backend, looking users up by normalised email (see ``UserManager``).

    Unverified accounts are refused by the login service, not here, so the admin can
    still tell an unverified staff member why they cannot sign in.
    """

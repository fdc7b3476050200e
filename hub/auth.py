"""Sign-up and log-in for a class: NativeAuthenticator, limited to the roster.

NativeAuthenticator keeps each person's password (bcrypt) in the hub's database; they choose it
at their first visit, on the hub's sign-up page. Here only names on the roster can sign up: any
other name is refused at sign-up (no account is recorded) and cannot log in (JupyterHub's
``allowed_users``). Roster names are pre-approved, so a learner signs up and logs in at once,
with no admin approval step.
"""

from __future__ import annotations

from nativeauthenticator import NativeAuthenticator


class RosterAuthenticator(NativeAuthenticator):  # type: ignore[misc]  # nativeauthenticator is untyped
    """NativeAuthenticator whose sign-up takes roster names only."""

    def validate_username(self, username: str) -> bool:
        on_roster = username in self.allowed_users or username in self.admin_users
        return on_roster and bool(super().validate_username(username))

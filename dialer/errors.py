"""One error hierarchy for the whole dialer.

Every message says what failed and what to do next. Foreign exceptions (httpx, redis, sqlite)
are translated at the boundary that sees them, never leaked to the user as tracebacks.
"""

from __future__ import annotations


class DialerError(Exception):
    """Base of every error the dialer raises on purpose. `exit_code` is what the CLI returns."""

    exit_code = 1


class InputError(DialerError):
    """Unusable input or options: a file, row or option the user must fix (exit 2)."""

    exit_code = 2


class SettingsError(InputError):
    """An environment variable or option holds a value that cannot be used."""


class ApiError(DialerError):
    """The Voxpria API answered in a way the dialer cannot go on from."""


class AuthError(ApiError):
    """The API refused the key (401). Everything stops: every later request would fail too."""


class NotFoundError(ApiError):
    """A resource named by the user (an agent, a call) does not exist."""

    exit_code = 2


class ApiUnavailable(ApiError):
    """The API could not be reached or kept failing after retries."""


class StoreError(DialerError):
    """The campaign store (state folder or Redis) cannot be used."""


class CampaignNotFound(DialerError):
    """No campaign with that id in the store."""

    exit_code = 2

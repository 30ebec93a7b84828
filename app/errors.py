"""The app's domain errors: one base, AppError, that carries its own HTTP answer.

A refusal the caller can act on (bad input, a conflict, a rule that says no) is raised as an AppError subclass
wherever it is found; its `status` and `code` say how every surface answers it, so the mapping lives here and in
one error handler per surface (app/admin, app/storefront), not in each view. Clients read `code`: a stable
snake_case key, never reworded (`message` is for people and may change). An AppError is never a 500.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """`status`: the HTTP status surfaces answer with; `code`: the JSON body's "error"; `details`: extra fields
    of the body (e.g. the field a validation names). Subclasses set `status`/`code`, an instance may too."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """{"error": code, "message": ... (when there is one), **details}: the JSON error body."""
        return {"error": self.code, **({"message": self.message} if self.message else {}), **self.details}


class InvalidInput(AppError):
    """The request's data is malformed or out of range (400)."""


class Unauthenticated(AppError):
    """A credential that is missing or not to be trusted (401)."""

    status, code = 401, "unauthorized"


class Conflict(AppError):
    """Valid, but clashes with the current state (409): a reused key, a state that moved on."""

    status, code = 409, "conflict"


class Gone(AppError):
    """Was valid once, no longer (410): an expired link."""

    status, code = 410, "gone"


class Refused(AppError):
    """Well-formed, but a business rule says no (422)."""

    status, code = 422, "refused"


class Unavailable(AppError):
    """Not now, through no fault of the caller: retry later (503)."""

    status, code = 503, "unavailable"

"""Domain exceptions; one error handler in the API turns them into the JSON errors of
docs/lifecycle.md, "Refusals"."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 400
    code = "validation_error"


class UnknownReference(DomainError):
    """Well-formed input naming something that does not exist (a line, department, category)."""

    status = 422
    code = "unknown_reference"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class SurveyClosed(Conflict):
    """An answer to a survey whose round is over: the case was reopened (重办) meanwhile."""

    code = "survey_closed"


class StaleVersion(Conflict):
    code = "stale_version"

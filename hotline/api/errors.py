"""One place that turns every error into the JSON of docs/lifecycle.md, "Refusals":
{"error": {code, message, fields}}."""

from __future__ import annotations

import re

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException

from ..domain.errors import DomainError
from ..domain.lifecycle import ACTIONS
from ..extensions import db

# A lifecycle action's path: only the actions are routes (cases.case_action), so a POST to any
# other word there is a 404 that should say which words there are.
_ACTION_PATH = re.compile(r"^/api/v1/cases/[^/]+/[^/]+$")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return jsonify(body), status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/channels/") or \
        request.accept_mimetypes.best == "application/json"


def install(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        db.session.rollback()
        fields = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(400, "validation_error", "the request has invalid fields", fields)

    # Safety nets for what the schemas and services should have refused first: a value the
    # database cannot hold (an integer beyond 64 bits, a date beyond year 9999 on the way to
    # UTC) is bad input, and a uniqueness the database enforces is a conflict, never a 500.
    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(exc: Exception):
        db.session.rollback()
        app.logger.warning("out-of-range value on %s %s: %s", request.method, request.path, exc)
        return error_response(400, "validation_error", "a value in the request is out of range")

    @app.errorhandler(IntegrityError)
    def integrity_error(exc: IntegrityError):
        db.session.rollback()
        app.logger.warning("integrity conflict on %s %s: %s", request.method, request.path,
                           exc.orig)
        return error_response(409, "conflict", "the request conflicts with what is stored "
                              "(something with the same name or number exists)")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        if not _wants_json():
            return exc
        code = {
            400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
            415: "unsupported_media_type", 422: "unprocessable", 429: "too_many_requests",
        }.get(exc.code or 500, "http_error")
        message = exc.description or exc.name
        if exc.code == 404 and request.method == "POST" and _ACTION_PATH.match(request.path):
            message = f"no such action; actions are: {', '.join(ACTIONS)}"
        resp, status = error_response(exc.code or 500, code, message)
        if exc.code == 405 and exc.valid_methods:
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "internal error; nothing was changed")

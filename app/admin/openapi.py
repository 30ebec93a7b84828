"""`GET /admin/api/v1/openapi.json`: the OpenAPI 3.1 document of the admin API, built from the app's routes.

Each admin view says what it answers with `@documented(...)` (summary, success schema and status, request body,
query parameters, its own error statuses); the document walks the url_map for the admin blueprint, so a route
cannot be left out, and its path parameters come from the route's converters (an `int` is a non-negative integer
within a BIGINT, an `any(...)` an enum). A view without `@documented` is listed with an open schema, and
tests/admin/test_admin_openapi.py fails on it. Every operation also lists the JSON errors any admin view can
answer (401 without valid credentials; 404 when the path names a row of another store or none; the framework's
own 4xx as {"error", "message"}). https://spec.openapis.org/oas/v3.1.0
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from flask import Response, current_app, jsonify
from werkzeug.routing import AnyConverter, IntegerConverter

from app.admin import bp

F = TypeVar("F", bound=Callable[..., Any])
PREFIX = "/admin/api/v1"
MAX_ID = 2**63 - 1  # ids are BIGINT; a larger number names no row
_ATTRIBUTE = "_admin_openapi"
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([A-Za-z_]\w*)>")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "message": {"type": ["string", "null"]}},
}
_ERRORS = {
    "401": "Missing or invalid credentials (a Shopify session token or an admin token)",
    "405": "Method not allowed",
    "413": "Request body over the limit",
    "415": "Unsupported media type",
}


def documented(
    *,
    summary: str,
    response: Mapping[str, Any],
    status: int | Sequence[int] = 200,
    request: Mapping[str, Any] | None = None,
    query: Sequence[Mapping[str, Any]] = (),
    errors: Mapping[int, str] | None = None,
    media_type: str = "application/json",
) -> Callable[[F], F]:
    """Describe an admin view for the OpenAPI document (put it under the route decorator). `media_type`: what a
    success answers (a PDF route says application/pdf with a binary string schema); errors stay JSON."""
    statuses = [status] if isinstance(status, int) else list(status)
    doc: dict[str, Any] = {"summary": summary, "response": dict(response), "statuses": statuses, "request": request}
    doc["media_type"] = media_type
    doc |= {"query": [dict(q) for q in query], "errors": {str(k): v for k, v in (errors or {}).items()}}

    def mark(view: F) -> F:
        setattr(view, _ATTRIBUTE, doc)
        return view

    return mark


def obj(*required: str, **properties: Any) -> dict[str, Any]:
    """A JSON object schema that must hold `required` (open to further fields: answers may grow)."""
    schema: dict[str, Any] = {"type": "object", "required": list(required)}
    if properties:
        schema["properties"] = properties
    return schema


def _parameter(name: str, converter: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    elif isinstance(converter, AnyConverter):
        schema = {"type": "string", "enum": sorted(converter.items)}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation(endpoint: str, method: str, doc: dict[str, Any], parameters: list[dict[str, Any]]) -> dict[str, Any]:
    errors = {**_ERRORS, **doc["errors"]}
    if parameters:
        errors.setdefault("404", "No such row in this store")
    responses: dict[str, Any] = {
        str(code): {
            "description": "OK",
            "content": {doc.get("media_type", "application/json"): {"schema": doc["response"]}},
        }
        for code in doc["statuses"]
    }
    for code, text in sorted(errors.items()):
        responses[code] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    operation: dict[str, Any] = {
        "operationId": endpoint.removeprefix("admin.") + ("" if method in ("GET", "POST") else f"_{method.lower()}"),
        "summary": doc["summary"],
        "parameters": parameters + doc["query"],
        "responses": responses,
    }
    if doc["request"] is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc["request"]}}}
    return operation


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.openapi_document":
            continue
        view = current_app.view_functions[rule.endpoint]
        doc = getattr(view, _ATTRIBUTE, None) or {
            "summary": "(undocumented)",
            "response": {},
            "statuses": [200],
            "request": None,
            "query": [],
            "errors": {},
        }
        converters = getattr(rule, "_converters", {})
        parameters = [_parameter(name, converters.get(name)) for name in _ARGUMENT.findall(rule.rule)]
        template = _ARGUMENT.sub(lambda m: "{" + m.group(1) + "}", re.sub(r"<[^:<>]+:", "<", rule.rule))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(template, {})[method.lower()] = _operation(rule.endpoint, method, doc, parameters)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Post-purchase engine admin API",
            "version": "1",
            "description": "The merchant's JSON API (docs/admin-api.md). Every call carries Authorization: Bearer "
            "<a Shopify App Bridge session token or an admin token from `flask stores admin-token`>.",
        },
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(build_document())

"""`GET /api/v1/openapi.json`: an OpenAPI 3.1 document built from the registered storefront routes.

Each route contributes its path (the /api/v1 form; the /proxy/api/v1 mirror is the same operation behind the
Shopify app proxy and is described in the info text), its schemas and query parameters; every operation also
lists the JSON errors the guard can answer, so a client (and schemathesis in tests) can rely on the document.
https://spec.openapis.org/oas/v3.1.0
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.storefront import bp
from app.storefront.registry import API_PREFIX, ROUTES, SCHEMAS, openapi_path

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}, "message": {"type": ["string", "null"]}},
}
_ERRORS = {
    "400": "Malformed request",
    "401": "Missing or invalid store key, customer token or proxy signature; or a customer login is required",
    "403": "The Origin is not one of the store's storefront origins",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Conflict with the current state (e.g. not enough points, an idempotency key reused)",
    "413": "Request body over the limit",
    "422": "Well-formed but refused input (e.g. a missing idempotency key)",
    "429": "Rate limit exceeded; retry after Retry-After seconds",
}
_DESCRIPTION = (
    "Public API for storefront widgets. WooCommerce and direct calls use /api/v1 with a public store key "
    "(X-PPE-Store header or ?store=) and, for a logged-in customer, a signed customer token (Authorization: "
    "Bearer). Every path is mirrored under /proxy/api/v1 for the Shopify app proxy, where Shopify's query "
    "signature identifies the shop and the logged-in customer instead."
)


_ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _error_responses(extra: dict[str, str]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for code, text in sorted({**_ERRORS, **extra}.items()):
        body: dict[str, Any] = {"description": text, "content": {"application/json": {"schema": _ERROR_REF}}}
        if code == "429":
            body["headers"] = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}}
        responses[code] = body
    return responses


def _security(auth: str) -> list[dict[str, list[str]]]:
    if auth == "customer":
        return [{"customerToken": []}]
    return [{"storeKey": []}, {"customerToken": []}]


def build_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for spec in ROUTES:
        if not spec.public:
            continue
        template, names = openapi_path(API_PREFIX + spec.path)
        schemas = dict(spec.path_params)
        parameters = [
            {"name": n, "in": "path", "required": True, "schema": schemas.get(n, {"type": "string"})} for n in names
        ]
        parameters.extend(spec.query)
        for method in spec.methods:
            operation: dict[str, Any] = {
                "operationId": spec.endpoint if len(spec.methods) == 1 else f"{spec.endpoint}_{method.lower()}",
                "summary": spec.summary,
                "parameters": parameters,
                "security": _security(spec.auth),
                "responses": {
                    str(spec.status): {"description": "OK", "content": {"application/json": {"schema": spec.response}}},
                    **_error_responses(dict(spec.errors)),
                },
            }
            if spec.request is not None and method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": spec.request}}}
            paths.setdefault(template, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Post-purchase engine storefront API", "version": "1", "description": _DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **SCHEMAS},
            "securitySchemes": {
                "storeKey": {"type": "apiKey", "in": "header", "name": "X-PPE-Store"},
                "customerToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@bp.get(API_PREFIX + "/openapi.json")
def openapi_document() -> Response:
    return jsonify(build_document())

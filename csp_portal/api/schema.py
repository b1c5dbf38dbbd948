"""OpenAPI description of the bearer tokens (loaded by the app's ready())."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "csp_portal.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token issued by the partner's global admin: `csp_<prefix>_<secret>`.",
        }


PROBLEM_STATUSES = {
    "400": "The request is malformed or a field is invalid (see `errors`).",
    "401": "Missing, invalid, expired or revoked credentials.",
    "403": "The caller's roles or the token's scopes do not allow this.",
    "404": "No such object here (another partner's or customer's objects answer the same).",
    "405": "The method is not allowed on this resource.",
    "406": "The requested media type cannot be produced.",
    "413": "The request body is too large.",
    "415": "The request body's media type is not supported.",
    "422": "The Idempotency-Key was used with a different request.",
    "429": "Rate limit reached; retry after `Retry-After` seconds.",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field (`a.b` for nested fields).",
        },
    },
    "required": ["type", "title", "status"],
}


def add_problem_responses(result, generator, request, public):
    """Document the one error format on every operation (drf-spectacular postprocessing)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status_code, description in PROBLEM_STATUSES.items():
                responses.setdefault(
                    status_code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": reference}},
                    },
                )
            responses.setdefault(
                "500",
                {
                    "description": "Server error.",
                    "content": {"application/problem+json": {"schema": reference}},
                },
            )
    return result

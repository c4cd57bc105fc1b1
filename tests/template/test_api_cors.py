"""The HttpApi answers CORS only for the origins named in AllowedOrigins (none by default)."""

from __future__ import annotations

from typing import Any

from tests.template.conftest import Render, only_resource

CORS = "x-amazon-apigateway-cors"


def http_api_body(template: dict[str, Any]) -> dict[str, Any]:
    return only_resource(template, "AWS::ApiGatewayV2::Api")[1]["Body"]


def test_no_cors_by_default(deployed: dict[str, Any]) -> None:
    body = http_api_body(deployed)

    assert CORS not in body
    assert "CorsConfiguration" not in only_resource(deployed, "AWS::ApiGatewayV2::Api")[1]


def test_named_origins_get_exactly_those_origins(render: Render) -> None:
    origins = ["https://rooms.example.com", "https://staging.example.com"]

    cors = http_api_body(render(AllowedOrigins=",".join(origins)))[CORS]

    assert cors["allowOrigins"] == origins
    assert set(cors["allowMethods"]) == {"GET", "POST", "OPTIONS"}
    assert {h.lower() for h in cors["allowHeaders"]} == {"content-type", "idempotency-key"}
    assert cors.get("allowCredentials") is not True


def test_a_single_origin_is_not_a_wildcard(render: Render) -> None:
    cors = http_api_body(render(AllowedOrigins="https://rooms.example.com"))[CORS]

    assert cors["allowOrigins"] == ["https://rooms.example.com"]

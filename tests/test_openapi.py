"""The OpenAPI document matches the real responses: every path, every body, validated."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from dashboard.openapi import openapi_document


def validate(document: dict, path: str, status: str, body) -> None:
    schema = document["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = sorted(validator.iter_errors(body), key=str)
    assert errors == [], f"{path} {status}: {errors[0].message if errors else ''}"


def test_every_route_is_documented_and_every_documented_path_exists(api_client, synced):
    client = api_client(synced)
    document = client.get("/api/v1/openapi.json").get_json()
    assert document == openapi_document()
    # The chart page and its static files are for browsers, not part of the JSON API.
    routes = {rule.rule for rule in client.application.url_map.iter_rules()
              if rule.endpoint not in ("static", "page.index")}
    assert routes == set(document["paths"])


def test_real_responses_match_their_schemas(api_client, synced):
    client = api_client(synced)
    document = client.get("/api/v1/openapi.json").get_json()
    for path in document["paths"]:
        if path == "/api/v1/openapi.json":
            continue
        for query in ("", "?countries=ALB,aus"):
            response = client.get(path + query)
            assert response.status_code == 200, path
            validate(document, path, "200", response.get_json())
    validate(document, "/tmins", "400", client.get("/tmins?countries=XYZ").get_json())


def test_the_schemas_are_strict_enough_to_catch_drift(api_client, synced):
    client = api_client(synced)
    document = openapi_document()
    body = client.get("/eeb").get_json()
    body["datasets"][0]["data"][0]["bubbles"] = 1                     # an undocumented field
    validator = Draft202012Validator({**document["paths"]["/eeb"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"], "components": document["components"]})
    assert not validator.is_valid(body)

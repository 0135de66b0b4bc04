"""The OpenAPI document matches the real responses (every path, every body, validated) and the server
accepts exactly the query parameters the document allows."""
from __future__ import annotations

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator

from dashboard.openapi import openapi_document
from tests.test_api import SERVED, assert_error_shape


def validate(document: dict, path: str, status: str, body) -> None:
    response = document["paths"][path]["get"]["responses"][status]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = sorted(validator.iter_errors(body), key=str)
    assert errors == [], f"{path} {status}: {errors[0].message if errors else ''}"


def test_every_route_is_documented_and_every_documented_path_exists(api_client, synced):
    client = api_client(synced)
    document = client.get("/api/v1/openapi.json").get_json()
    assert document == openapi_document(synced.settings.sources)
    # The chart page and its static files are for browsers, not part of the JSON API.
    routes = {rule.rule for rule in client.application.url_map.iter_rules()
              if rule.endpoint not in ("static", "page.index")}
    assert routes == set(document["paths"])


def test_real_responses_match_their_schemas(api_client, synced):
    client = api_client(synced)
    document = client.get("/api/v1/openapi.json").get_json()
    for path in document["paths"]:
        if path in ("/api/v1/openapi.json", "/api/v1/stream"):      # the stream: tests/test_push.py
            continue
        for query in ("", "?countries=ALB,aus"):
            response = client.get(path + query)
            assert response.status_code == 200, path
            validate(document, path, "200", response.get_json())
    validate(document, "/tmins", "400", client.get("/tmins?countries=XYZ").get_json())


def test_the_schemas_are_strict_enough_to_catch_drift(api_client, synced):
    client = api_client(synced)
    document = openapi_document(synced.settings.sources)
    body = client.get("/eeb").get_json()
    body["datasets"][0]["data"][0]["bubbles"] = 1                     # an undocumented field
    validator = Draft202012Validator({**document["paths"]["/eeb"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"], "components": document["components"]})
    assert not validator.is_valid(body)


def parameter_schema(document: dict, path: str, name: str) -> dict:
    return next(p["schema"] for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)


# (path, parameter, value, the 400's message or None for a 200)
PARAMETER_CASES = [
    ("/tmins", "countries", "TRUE", "countries: 'TRUE' is not a 3-letter country code"),
    ("/tmins", "countries", "XYZ", f"countries: 'XYZ' is not a country we serve {SERVED}"),
    ("/tmins", "countries", "ALB ARG", "countries: 'ALB ARG' is not a 3-letter country code"),
    ("/tmins", "countries", "\tALB", "countries: '\\tALB' is not a 3-letter country code"),   # spaces only
    ("/tmins", "countries", "ALB\n", "countries: 'ALB\\n' is not a 3-letter country code"),
    ("/tmins", "countries", ",".join(["ALB"] * 101),
     "countries: 403 characters is too long; give at most 4 comma-separated codes"),
    ("/tmins", "countries", "", None),                   # empty means all
    ("/tmins", "countries", " alb ,, Arg,", None),
    ("/tmins", "countries", ",".join(["ALB"] * 100), None),                  # 399 characters
    ("/api/v1/quarantine", "source", "", "source: '' is not a country we serve"),
    ("/api/v1/quarantine", "source", " ARG", "source: ' ARG' is not a country we serve"),
    ("/api/v1/quarantine", "source", "DEU", "source: 'DEU' is not a country we serve"),
    ("/api/v1/quarantine", "source", "arg", None),
    ("/api/v1/quarantine", "limit", "", "limit: '' is not a whole number"),
    ("/api/v1/quarantine", "limit", "501", "limit: 501 is outside [1, 500]"),
    ("/api/v1/quarantine", "limit", " 5", "limit: ' 5' is not a whole number"),
    ("/api/v1/quarantine", "limit", "1.0", "limit: '1.0' is not a whole number"),
    ("/api/v1/quarantine", "limit", "500", None),
    ("/api/v1/quarantine", "offset", "1000000001", "offset: 1000000001 is outside [0, 1000000000]"),
    ("/api/v1/quarantine", "offset", "9" * 1000, f"offset: {'9' * 20} is outside [0, 1000000000]"),
    ("/api/v1/quarantine", "offset", "1000000000", None),
]


def test_the_document_and_the_server_agree_on_each_parameter(api_client, synced):
    """A value the document's schema allows is answered 200; one it forbids is a 400 naming it.
    (jsonschema_rs, as schemathesis: its patterns are ECMA-262's, as JSON Schema says, where `$` is
    the end of the text; Python's `re`, under the jsonschema package, lets a final newline through.)"""
    client = api_client(synced)
    document = openapi_document(synced.settings.sources)
    for path, name, value, message in PARAMETER_CASES:
        schema = parameter_schema(document, path, name)
        typed = value
        if schema["type"] == "integer" and value.isdigit():
            typed = int(value) if len(value) <= 20 else 10**20          # (a number that long is past any bound)
        assert jsonschema_rs.is_valid(schema, typed) == (message is None), (name, value)
        response = client.get(path, query_string={name: value})
        if message is None:
            assert response.status_code == 200, (name, value)
        else:
            assert_error_shape(response, 400, message)
            validate(document, path, "400", response.get_json())


def test_a_parameter_given_twice_is_a_400(api_client, synced):
    client = api_client(synced)
    assert_error_shape(client.get("/escs?countries=ALB&countries=ARG"), 400, "countries: given 2 times; give it once")
    assert_error_shape(client.get("/api/v1/quarantine?limit=5&limit=6"), 400, "limit: given 2 times; give it once")


def test_every_error_is_documented_in_the_one_shape(api_client, synced):
    """400 where there are parameters, 404, 405, 414, and 503 (with Retry-After) wherever the
    database is read: each the Error schema, which the app's real 404 and 405 match."""
    client = api_client(synced)
    document = openapi_document(synced.settings.sources)
    for path, operation in document["paths"].items():
        refs = {status: r["$ref"].rsplit("/", 1)[1] for status, r in operation["get"]["responses"].items()
                if "$ref" in r}
        expected = {"404": "NotFound", "405": "MethodNotAllowed", "414": "UriTooLong"}
        if operation["get"]["parameters"]:
            expected["400"] = "BadRequest"
        if path != "/api/v1/openapi.json":                       # every other path reads the database
            expected["503"] = "Unavailable"
        assert refs == expected, path
    responses = document["components"]["responses"]
    assert {name: r["content"] for name, r in responses.items()} == dict.fromkeys(responses, {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}})
    assert responses["Unavailable"]["headers"]["Retry-After"]["required"] is True
    validate(document, "/tmins", "404", client.get("/nope").get_json())
    validate(document, "/tmins", "405", client.post("/tmins").get_json())


def test_summary_sources_and_quarantine_are_documented_with_weak_etags_the_others_strong():
    document = openapi_document(("ALB", "ARG"))
    patterns = {path: operation["get"]["responses"]["200"]["headers"]["ETag"]["schema"]["pattern"]
                for path, operation in document["paths"].items() if path != "/api/v1/stream"}
    weak = {"/api/v1/summary", "/api/v1/sources", "/api/v1/quarantine"}
    assert patterns == {path: '^W/"[^"]*"$' if path in weak else '^"[^"]*"$' for path in patterns}
    assert "ETag" not in document["paths"]["/api/v1/stream"]["get"]["responses"]["200"]["headers"]

"""Schemathesis against the server's own OpenAPI description: no input gives a 5xx (a bounded run).

The server is the real one (uvicorn on loopback) with a real Orthanc behind publish, the
worklist and the study lookup, so generated requests go all the way through.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from .server_process import ServerProcess


@pytest.fixture(scope="module")
def api_schema(open_server: ServerProcess) -> Any:
    return schemathesis.openapi.from_url(f"{open_server.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("DICOMIFY_SCHEMATHESIS_EXAMPLES", "25")),
    derandomize=True,  # the same bounded run every time: a failure is reproducible, never flaky
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_no_server_errors(case: Any) -> None:
    response = case.call(timeout=60)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"] and "\n" not in body["error"]


def test_the_description_lists_the_api(open_server: ServerProcess) -> None:
    import httpx

    paths = httpx.get(f"{open_server.url}/openapi.json").json()["paths"]
    for path in ("/api/convert", "/api/publish", "/api/worklist", "/api/studies", "/api/health", "/api/stage"):
        assert path in paths
    assert "multipart/form-data" in paths["/api/convert"]["post"]["requestBody"]["content"]

"""A step against its OpenAPI operation: parameters, request bodies, servers; and what blocks a run."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from spola.lint import blocking_findings, lint
from spola.model import load
from tests.lint.documents import OPENAPI, findings, rules, step, workflow, write_doc


def test_a_missing_path_parameter_is_an_error_that_blocks_a_run(tmp_path: Path) -> None:
    path = write_doc(tmp_path, [workflow([step("read", parameters=[])])])
    report = lint(path)
    (found,) = findings(report, "missing-path-parameter")
    assert found.severity == "error"
    assert "'runId'" in found.message
    (blocking,) = blocking_findings(load(path))
    assert blocking.rule == "missing-path-parameter"
    fixed = write_doc(tmp_path, [workflow([step("read")])])
    assert rules(fixed) == set()
    assert blocking_findings(load(fixed)) == []


def test_a_missing_required_query_parameter_is_an_error_that_does_not_block(tmp_path: Path) -> None:
    path = write_doc(tmp_path, [workflow([step("create", "createRun", parameters=[])])])
    (found,) = findings(lint(path), "missing-required-parameter")
    assert found.severity == "error"
    assert "query parameter 'mode'" in found.message
    assert blocking_findings(load(path)) == []
    assert "missing-required-parameter" not in rules(
        write_doc(tmp_path, [workflow([step("create", "createRun")])])
    )


def test_a_workflow_level_parameter_supplies_what_the_operation_requires(tmp_path: Path) -> None:
    params = [{"name": "mode", "in": "query", "value": "fast"}]
    flow = workflow([step("create", "createRun", parameters=[])], parameters=params)
    assert "missing-required-parameter" not in rules(write_doc(tmp_path, [flow], arazzo="1.1.0"))


def test_required_headers_are_warnings_and_user_agent_is_only_information(tmp_path: Path) -> None:
    api = copy.deepcopy(OPENAPI)
    api["paths"]["/runs"]["get"]["parameters"] = [
        {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": "User-Agent", "in": "header", "required": True, "schema": {"type": "string"}},
    ]
    report = lint(write_doc(tmp_path, [workflow([step("list", "listRuns")])], openapi=api))
    severities = {f.message.split("'")[3]: f.severity for f in findings(report, "missing-required-parameter")}
    assert severities == {"X-Tenant": "warning", "User-Agent": "info"}


def test_a_required_request_body_that_is_not_sent_is_missing(tmp_path: Path) -> None:
    steps = [step("create", "createRun")]
    del steps[0]["requestBody"]
    (found,) = findings(lint(write_doc(tmp_path, [workflow(steps)])), "missing-request-body")
    assert found.severity == "error"
    assert "application/json" in found.message
    assert "missing-request-body" not in rules(write_doc(tmp_path, [workflow([step("create", "createRun")])]))


def test_a_body_the_operation_does_not_declare_is_information(tmp_path: Path) -> None:
    body = {"contentType": "application/json", "payload": {"x": 1}}
    report = lint(write_doc(tmp_path, [workflow([step("list", "listRuns", requestBody=body)])]))
    (found,) = findings(report, "undeclared-request-body")
    assert found.severity == "info"
    assert report.exit_status(strict=True) == 0


def test_a_parameter_the_operation_does_not_declare_is_a_warning(tmp_path: Path) -> None:
    params: list[dict[str, Any]] = [
        {"name": "runId", "in": "path", "value": 1},
        {"name": "verbose", "in": "header", "value": True},
    ]
    report = lint(write_doc(tmp_path, [workflow([step("read", parameters=params)])]))
    (found,) = findings(report, "unknown-parameter")
    assert found.severity == "warning"
    assert found.hint == "the operation declares 'verbose' in query: write `in: query`"
    assert found.location.pointer == "/workflows/0/steps/0/parameters/1/name"
    params[1]["in"] = "query"
    assert rules(write_doc(tmp_path, [workflow([step("read", parameters=params)])])) == set()


def test_credential_and_content_headers_need_no_declaration(tmp_path: Path) -> None:
    params = [
        {"name": "runId", "in": "path", "value": 1},
        {"name": "Authorization", "in": "header", "value": "Bearer {$inputs.runId}"},
        {"name": "x-api-key", "in": "header", "value": "secret"},
        {"name": "Accept", "in": "header", "value": "application/json"},
    ]
    assert rules(write_doc(tmp_path, [workflow([step("read", parameters=params)])])) == set()


def _versioned_api(host: str) -> dict[str, Any]:
    ok = {"200": {"description": "ok"}}
    account = {"name": "accountId", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "versions", "version": "3"},
        "servers": [{"url": f"https://{host}/api/v3"}, {"url": f"https://{host}/api/v2"}],
        "paths": {
            "/accounts/": {"get": {"operationId": "listAccounts", "responses": ok}},
            "/accounts/{accountId}/runs/": {
                "get": {"operationId": "listRuns", "parameters": [account], "responses": ok}
            },
        },
    }


def test_an_operation_only_the_second_server_has_is_a_server_mismatch(tmp_path: Path) -> None:
    account = [{"name": "accountId", "in": "path", "value": 1}]
    steps = [step("runs", "listRuns", parameters=account), step("accounts", "listAccounts")]
    report = lint(write_doc(tmp_path, [workflow(steps)], openapi=_versioned_api("cloud.getdbt.com")))
    (found,) = findings(report, "server-mismatch")
    assert found.severity == "warning"
    assert "listRuns" in found.message and "v2" in found.message
    assert found.hint is not None and "--server api=https://cloud.getdbt.com/api/v2" in found.hint
    passing = lint(write_doc(tmp_path, [workflow([steps[1]])], openapi=_versioned_api("cloud.getdbt.com")))
    assert findings(passing, "server-mismatch") == []


def test_an_operation_with_its_own_servers_is_no_server_mismatch(tmp_path: Path) -> None:
    api = _versioned_api("cloud.getdbt.com")
    api["paths"]["/accounts/{accountId}/runs/"]["servers"] = [{"url": "https://cloud.getdbt.com/api/v2"}]
    steps = [step("runs", "listRuns", parameters=[{"name": "accountId", "in": "path", "value": 1}])]
    assert "server-mismatch" not in rules(write_doc(tmp_path, [workflow(steps)], openapi=api))


def test_servers_for_several_versions_of_an_unknown_api_are_information(tmp_path: Path) -> None:
    report = lint(
        write_doc(tmp_path, [workflow([step("a", "listAccounts")])], openapi=_versioned_api("x.example"))
    )
    (found,) = findings(report, "server-mismatch")
    assert found.severity == "info"
    assert found.location.pointer == "/sourceDescriptions/0/url"

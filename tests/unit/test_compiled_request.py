"""The compiled request (`StepPlan.build`) against the general path (`tests.unit.request_reference`,
the request builder as it was before requests were compiled).

Every step with an operation in the documents under ../shared (the real-world corpus, the
specification's examples, the seeds) is built both ways against synthetic scopes (its inputs and
step outputs present with values of several types, absent, or some of each) and with options
with and without server overrides and credentials: the results must be identical, field by field,
or fail with the same error. The focused tests below pin each kind of slot to the exact request.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent
from typing import Any

import msgspec
import pytest

import spola
from spola.core.plan import StepPlan, plan_step, shared_plan
from spola.exchange import TokenGrant
from spola.expr import Scope
from spola.model import Document, Step, Workflow, load
from spola.options import Credential, RunOptions
from spola.request_builder import BuiltRequest, RequestBuildError
from tests.conftest import SHARED
from tests.unit.request_reference import reference_build_request as build_request

TREES = ("corpus", "spec/examples", "seeds/arazzo")
VALUES: tuple[Any, ...] = (
    "a b/c?&=;,é",
    "",
    42,
    0,
    True,
    3.5,
    None,
    ["x y", 2, None, False],
    [],
    {"k": "v w", "n": 1, "idempotency_key": "t"},
    {},
)
SECRETS: tuple[frozenset[str], ...] = (frozenset(), frozenset({"s3cret"}), frozenset({"", "s3cret"}))


def _documents() -> list[Path]:
    if not SHARED.is_dir():
        return []
    found: list[Path] = []
    for tree in TREES:
        root = SHARED / tree
        found += sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
    return found


def _load(path: Path) -> Document | None:
    try:
        return load(path)
    except Exception:  # not an Arazzo document (an OpenAPI one, say), or it needs remote sources
        return None


def _steps(document: Document) -> Iterator[tuple[Workflow, Step]]:
    for workflow in document.workflows:
        for step in workflow.steps:
            if step.workflow_id is None and step.kind == "operation":
                try:
                    operation = document.operation_for(step)
                except Exception:
                    continue
                if operation is not None:
                    yield workflow, step


def _references(plan: StepPlan) -> list[Any]:
    values = [p.value for p in plan.parameters]
    body = plan.step.request_body
    if body is not None:
        if body.payload is not None:
            values.append(body.payload)
        values += [r.value for r in body.replacements]
    return sorted({ref for v in values for ref in v.references()}, key=repr)


def _scope(refs: list[Any], pick: Any) -> Scope:
    """A scope where reference ``i`` reads ``pick(i)`` (absent when that is ``_ABSENT``)."""
    inputs: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    steps: dict[str, dict[str, Any]] = {}
    workflows: dict[str, dict[str, Any]] = {}
    for i, ref in enumerate(refs):
        value = pick(i)
        if value is _ABSENT:
            continue
        head = ref.head or "x"
        if ref.kind == "inputs":
            inputs[head] = value
        elif ref.kind == "outputs":
            outputs[head] = value
        elif ref.kind == "steps" and ref.id:
            steps.setdefault(ref.id, {})[head] = value
        elif ref.kind == "workflows" and ref.id:
            known = workflows.setdefault(ref.id, {"inputs": {}, "outputs": {}, "steps": {}})
            known["inputs"][head] = value
            known["outputs"][head] = value
            if ref.step:
                known["steps"].setdefault(ref.step, {})[head] = value
    return Scope(inputs=inputs, outputs=outputs, steps=steps, workflows=workflows, url="http://u.example/x")


_ABSENT = object()


def _scopes(refs: list[Any]) -> Iterator[Scope]:
    yield _scope(refs, lambda i: _ABSENT)
    for value in VALUES:
        yield _scope(refs, lambda i, v=value: v)
    n = len(VALUES)
    yield _scope(refs, lambda i: VALUES[i % n] if i % 2 else _ABSENT)
    yield _scope(refs, lambda i: _ABSENT if i % 2 else VALUES[(i * 3) % n])
    yield _scope(refs, lambda i: VALUES[(i + 5) % n])


def _options(document: Document) -> list[RunOptions]:
    sources = [s.name for s in document.source_descriptions]
    servers = dict.fromkeys(sources, "https://override.example/base/")
    server_vars: dict[tuple[str, str], str] = {}
    schemes: list[Credential] = []
    for workflow, step in _steps(document):
        operation = document.operation_for(step)
        assert operation is not None
        for server in operation.servers:
            for var in server.variables:
                server_vars[(operation.source, var)] = "given-" + var
        schemes += [
            Credential(operation.source, name, f"id-{name}:pw") for name in operation.security_schemes
        ]
    loose = tuple(Credential(name, None, "client:s3cret") for name in sources)
    return [
        spola.make_options(),
        spola.make_options(servers=servers),
        spola.make_options(server_vars=server_vars),
        spola.make_options(servers=servers, auth=loose),
        spola.make_options(server_vars=server_vars, auth=tuple(dict.fromkeys(schemes))),
        spola.make_options(auth=(*loose, Credential("nowhere", None, "x"))),
    ]


def _outcome(make: Any) -> Any:
    try:
        built = make()
    except Exception as exc:  # the same error both ways, message and hint
        return ("error", type(exc), str(exc), getattr(exc, "hint", None))
    assert isinstance(built, BuiltRequest)
    r = built.request
    fields = (r.method, r.url, r.headers, r.body, r.path_params, r.query_params, r.body_value)
    return ("ok", fields, r.secrets, r.grants, built.idempotent, repr(r.body_value))


def _general(plan: StepPlan, scope: Scope, options: RunOptions, secrets: frozenset[str], base: Any) -> Any:
    assert plan.operation is not None
    return _outcome(
        lambda: build_request(
            operation=plan.operation,
            parameters=plan.parameters,
            request_body=plan.step.request_body,
            scope=scope,
            options=options,
            source_url=plan.source_url,
            secret_values=secrets,
            base=base,
        )
    )


def check_document(document: Document) -> int:
    """Build every operation step of ``document`` both ways in every combination; the builds made."""
    made = 0
    for options in _options(document):
        for workflow, step in _steps(document):
            plan = plan_step(document, workflow, step, options)
            refs = _references(plan)
            for scope, secrets in itertools.product(_scopes(refs), SECRETS):
                fast = _outcome(lambda: plan.build(scope, options, secrets))
                assert fast == _general(plan, scope, options, secrets, plan.base), (step.step_id, scope)
                assert fast == _general(plan, scope, options, secrets, None), (step.step_id, scope)
                made += 1
    return made


DOCUMENTS = _documents()


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(SHARED)) for p in DOCUMENTS])
def test_the_compiled_request_is_the_general_one(path: Path) -> None:
    document = _load(path)
    if document is None:
        pytest.skip("not a loadable Arazzo document")
    check_document(document)


def test_the_corpus_is_there_and_exercised() -> None:
    if not DOCUMENTS:
        pytest.skip("../shared is not beside the repository")
    documents = [d for d in map(_load, DOCUMENTS) if d is not None]
    steps = sum(1 for d in documents for _ in _steps(d))
    assert len(documents) >= 100
    assert steps >= 300


# ---- focused: one test per kind of slot, the exact request -------------------------------------

SLOTS_OPENAPI = dedent(
    """
    openapi: 3.1.0
    info: {title: Slots, version: "1"}
    servers:
      - url: https://{host}/v1
        variables:
          host: {default: slots.example}
    components:
      securitySchemes:
        bearer: {type: http, scheme: bearer}
        basic: {type: http, scheme: basic}
        hkey: {type: apiKey, in: header, name: X-Api-Key}
        qkey: {type: apiKey, in: query, name: api_key}
        ckey: {type: apiKey, in: cookie, name: session}
        rkey: {type: apiKey, in: header, name: Idempotency-Key}
        oauth:
          type: oauth2
          flows:
            clientCredentials:
              tokenUrl: /oauth/token
              scopes: {read: read things, write: write things}
    paths:
      /items/{id}/{label}{matrix}/{obj}:
        get:
          operationId: pathSlots
          parameters:
            - {name: id, in: path, required: true, schema: {type: string}}
            - {name: label, in: path, required: true, style: label, explode: true, schema: {type: array}}
            - {name: matrix, in: path, required: true, style: matrix, schema: {type: object}}
            - {name: obj, in: path, required: true, explode: true, schema: {type: object}}
          responses: {"200": {description: ok}}
      /search:
        get:
          operationId: search
          parameters:
            - {name: tags, in: query, schema: {type: array}}
            - {name: ids, in: query, style: pipeDelimited, explode: false, schema: {type: array}}
            - {name: words, in: query, style: spaceDelimited, explode: false, schema: {type: array}}
            - {name: filter, in: query, style: deepObject, explode: true, schema: {type: object}}
            - {name: flat, in: query, explode: false, schema: {type: object}}
            - {name: spread, in: query, schema: {type: object}}
            - {name: n, in: query, schema: {type: integer}}
            - {name: X-Trace, in: header, schema: {type: array}}
            - {name: X-Pairs, in: header, explode: true, schema: {type: object}}
            - {name: theme, in: cookie, schema: {type: string}}
            - {name: lang, in: cookie, schema: {type: string}}
          responses: {"200": {description: ok}}
      /raw:
        get:
          operationId: raw
          responses: {"200": {description: ok}}
      /orders:
        post:
          operationId: createOrder
          requestBody:
            content:
              application/json: {schema: {type: object}}
          responses: {"200": {description: ok}}
      /forms:
        post:
          operationId: submitForm
          requestBody:
            content:
              application/x-www-form-urlencoded: {schema: {type: object}}
          responses: {"200": {description: ok}}
      /secure/bearer:
        get: {operationId: bearer, security: [{bearer: []}], responses: {"200": {description: ok}}}
      /secure/basic:
        get: {operationId: basic, security: [{basic: []}], responses: {"200": {description: ok}}}
      /secure/hkey:
        post: {operationId: hkey, security: [{hkey: []}], responses: {"200": {description: ok}}}
      /secure/qkey:
        get: {operationId: qkey, security: [{qkey: []}], responses: {"200": {description: ok}}}
      /secure/ckey:
        get: {operationId: ckey, security: [{ckey: []}], responses: {"200": {description: ok}}}
      /secure/oauth:
        get: {operationId: oauth, security: [{oauth: [read]}], responses: {"200": {description: ok}}}
      /secure/rkey:
        post: {operationId: rkey, security: [{rkey: []}], responses: {"200": {description: ok}}}
    """
)
SLOTS_ARAZZO = dedent(
    """
    arazzo: 1.1.0
    info: {title: Slots, version: "1"}
    sourceDescriptions:
      - {name: slots, url: ./slots.openapi.yaml, type: openapi}
    workflows:
      - workflowId: slots
        inputs: {type: object}
        steps:
          - stepId: pathSlots
            operationId: pathSlots
            parameters:
              - {name: id, in: path, value: $inputs.id}
              - {name: label, in: path, value: $inputs.label}
              - {name: matrix, in: path, value: $inputs.matrix}
              - {name: obj, in: path, value: $inputs.obj}
          - stepId: search
            operationId: search
            parameters:
              - {name: tags, in: query, value: $inputs.tags}
              - {name: ids, in: query, value: $inputs.ids}
              - {name: words, in: query, value: $inputs.words}
              - {name: filter, in: query, value: $inputs.filter}
              - {name: flat, in: query, value: $inputs.flat}
              - {name: spread, in: query, value: $inputs.spread}
              - {name: n, in: query, value: $inputs.n}
              - {name: X-Trace, in: header, value: $inputs.trace}
              - {name: X-Pairs, in: header, value: $inputs.pairs}
              - {name: theme, in: cookie, value: $inputs.theme}
              - {name: lang, in: cookie, value: $inputs.lang}
          - stepId: raw
            operationId: raw
            parameters:
              - {name: q, in: querystring, value: $inputs.q}
          - stepId: createOrder
            operationId: createOrder
            parameters:
              - {name: Content-Type, in: header, value: $inputs.ctype}
            requestBody:
              payload:
                item: $inputs.item
                qty: 1
                note: "for $inputs.who"
              replacements:
                - {target: /qty, value: $inputs.qty}
                - {target: /dedup_token, value: $inputs.token}
          - stepId: submitForm
            operationId: submitForm
            requestBody:
              payload: {name: $inputs.who, tags: $inputs.tags}
          - {stepId: bearer, operationId: bearer}
          - {stepId: basic, operationId: basic}
          - {stepId: hkey, operationId: hkey}
          - {stepId: qkey, operationId: qkey}
          - {stepId: ckey, operationId: ckey}
          - {stepId: rkey, operationId: rkey}
          - stepId: oauth
            operationId: oauth
            parameters:
              - {name: Authorization, in: header, value: $inputs.authorization}
    """
)
INPUTS: dict[str, Any] = {
    "id": "a b",
    "label": ["x", "y"],
    "matrix": {"k": "v", "m": 2},
    "obj": {"a": 1, "b": "c d"},
    "tags": ["t1", "t 2"],
    "ids": [1, 2],
    "words": ["w1", "w2"],
    "filter": {"s": "open", "p": 1},
    "flat": {"a": "b", "c": "d"},
    "spread": {"x": "1", "y": True},
    "n": 7,
    "trace": ["t1", "t2"],
    "pairs": {"p": "q", "r": None},
    "theme": "dark",
    "lang": "en",
    "q": {"a": "b c", "d": [1, 2]},
    "item": "widget",
    "qty": 3,
    "who": "me",
    "token": "tok",
}
AUTH = {
    "slots.bearer": "tok-b",
    "slots.basic": "u:p",
    "slots.hkey": "hk",
    "slots.qkey": "qk",
    "slots.ckey": "ck",
    "slots.rkey": "rk",
    "slots.oauth": "cid:csec",
}
BASE = "https://slots.example/v1"


@pytest.fixture(scope="module")
def slots(tmp_path_factory: pytest.TempPathFactory) -> Document:
    root = tmp_path_factory.mktemp("slots")
    (root / "slots.openapi.yaml").write_text(SLOTS_OPENAPI)
    (root / "slots.arazzo.yaml").write_text(SLOTS_ARAZZO)
    return load(root / "slots.arazzo.yaml")


def build(
    document: Document,
    step_id: str,
    inputs: dict[str, Any] | None = None,
    options: RunOptions | None = None,
    secrets: frozenset[str] = frozenset(),
) -> BuiltRequest:
    """The compiled request, checked against the general one (equal, or the same error)."""
    options = options or spola.make_options()
    workflow = document.workflows[0]
    step = workflow.step(step_id)
    assert step is not None
    plan = plan_step(document, workflow, step, options)
    scope = Scope(inputs=INPUTS if inputs is None else inputs)
    fast = _outcome(lambda: plan.build(scope, options, secrets))
    assert fast == _general(plan, scope, options, secrets, plan.base)
    return plan.build(scope, options, secrets)


def test_the_slots_document_agrees_in_every_combination(slots: Document) -> None:
    assert check_document(slots) > 1000


def test_path_slots_simple_label_matrix_and_exploded_objects(slots: Document) -> None:
    built = build(slots, "pathSlots")
    assert built.request.url == f"{BASE}/items/a%20b/.x.y;matrix=k,v,m,2/a=1,b=c%20d"
    assert built.request.path_params == {
        "id": "a b",
        "label": ["x", "y"],
        "matrix": {"k": "v", "m": 2},
        "obj": {"a": 1, "b": "c d"},
    }
    assert built.idempotent
    scalar = build(slots, "pathSlots", {"id": 5, "label": True, "matrix": "m", "obj": None})
    assert scalar.request.url == f"{BASE}/items/5/.true;matrix=m/"


def test_a_path_slot_without_a_value_is_the_same_error(slots: Document) -> None:
    with pytest.raises(RequestBuildError) as caught:
        build(slots, "pathSlots", {"id": "a", "label": ["x"], "obj": {}})
    assert caught.value.message == (
        "path parameter 'matrix' of GET /items/{id}/{label}{matrix}/{obj} has no value"
    )
    assert caught.value.hint == "Add it to the step's parameters with in: path."


def test_query_styles_headers_and_cookies(slots: Document) -> None:
    request = build(slots, "search").request
    assert request.url == (
        f"{BASE}/search?tags=t1&tags=t%202&ids=1%7C2&words=w1%20w2&filter%5Bs%5D=open&filter%5Bp%5D=1"
        "&flat=a%2Cb%2Cc%2Cd&x=1&y=true&n=7"
    )
    assert request.headers == (
        ("X-Trace", "t1,t2"),
        ("X-Pairs", "p=q,r="),
        ("Cookie", "theme=dark; lang=en"),
    )
    assert request.query_params["n"] == 7 and list(request.query_params) == [
        "tags",
        "ids",
        "words",
        "filter",
        "flat",
        "spread",
        "n",
    ]
    scalars = build(slots, "search", {"tags": "one", "n": False, "trace": 3, "lang": None}).request
    assert scalars.url == f"{BASE}/search?tags=one&n=false"
    assert scalars.headers == (("X-Trace", "3"), ("Cookie", "lang="))
    assert build(slots, "search", {}).request.url == f"{BASE}/search"


def test_querystring(slots: Document) -> None:
    assert build(slots, "raw").request.url == f"{BASE}/raw?a=b+c&d=1&d=2"
    assert build(slots, "raw", {"q": "?x=1&y"}).request.url == f"{BASE}/raw?x=1&y"
    with pytest.raises(TypeError):
        build(slots, "raw", {"q": [1]})


def test_body_with_replacements_and_its_content_type(slots: Document) -> None:
    built = build(slots, "createOrder")
    assert built.request.body == b'{"item":"widget","qty":3,"note":"for me","dedup_token":"tok"}'
    assert built.request.headers == (("Content-Type", "application/json"),)
    assert built.idempotent  # a POST whose body carries a key
    bare = build(slots, "createOrder", {**INPUTS, "token": ""})
    assert bare.request.body_value == {"item": "widget", "qty": 3, "note": "for me", "dedup_token": ""}
    assert not bare.idempotent
    given = build(slots, "createOrder", {"ctype": "text/plain", "qty": 2})
    assert given.request.headers == (("Content-Type", "text/plain"),)
    assert given.request.body == b'{"qty":2}'  # "for $inputs.who" without who is left out
    form = build(slots, "submitForm")
    assert form.request.body == b"name=me&tags=t1&tags=t+2"
    assert form.request.headers == (("Content-Type", "application/x-www-form-urlencoded"),)
    assert not form.idempotent


def test_security_schemes(slots: Document) -> None:
    options = spola.make_options(auth=AUTH)
    bearer = build(slots, "bearer", options=options).request
    assert bearer.headers == (("Authorization", "Bearer tok-b"),) and bearer.secrets == {"tok-b"}
    basic = build(slots, "basic", options=options).request
    assert basic.headers == (("Authorization", "Basic dTpw"),) and basic.secrets == {"u:p", "dTpw"}
    hkey = build(slots, "hkey", options=options)
    assert hkey.request.headers == (("X-Api-Key", "hk"),) and not hkey.idempotent
    assert build(slots, "qkey", options=options).request.url == f"{BASE}/secure/qkey?api_key=qk"
    ckey = build(slots, "ckey", options=options, secrets=frozenset({"", "old"})).request
    assert ckey.headers == (("Cookie", "session=ck"),) and ckey.secrets == {"ck", "old"}
    rkey = build(slots, "rkey", options=options)
    assert rkey.request.headers == (("Idempotency-Key", "rk"),) and rkey.idempotent
    oauth = build(slots, "oauth", options=options).request
    assert oauth.headers == () and oauth.secrets == {"csec"}
    assert oauth.grants == (
        TokenGrant("https://slots.example/oauth/token", "cid", "csec", ("read", "write")),
    )
    preset = build(slots, "oauth", {"authorization": "Bearer given"}, options=options).request
    assert preset.headers == (("Authorization", "Bearer given"),) and preset.grants == ()
    without = build(slots, "bearer").request
    assert without.headers == () and without.secrets == frozenset()
    assert build(slots, "bearer", secrets=frozenset({""})).request.secrets == frozenset()


def test_a_shared_plan_serves_runs_with_and_without_credentials(slots: Document) -> None:
    plain = spola.make_options()
    keyed = msgspec.structs.replace(plain, credentials=spola.make_options(auth=AUTH).credentials)
    workflow = slots.workflows[0]
    step = workflow.step("bearer")
    assert step is not None
    plan = shared_plan(slots, workflow, step, plain)
    assert shared_plan(slots, workflow, step, keyed) is plan
    scope = Scope(inputs={})
    assert plan.build(scope, keyed).request.headers == (("Authorization", "Bearer tok-b"),)
    assert plan.build(scope, plain).request.headers == ()


def test_no_server_is_the_same_error(slots: Document, tmp_path: Path) -> None:
    (tmp_path / "slots.openapi.yaml").write_text(SLOTS_OPENAPI.replace("servers:", "x-servers:", 1))
    (tmp_path / "slots.arazzo.yaml").write_text(SLOTS_ARAZZO)
    document = load(tmp_path / "slots.arazzo.yaml")
    with pytest.raises(RequestBuildError) as caught:
        build(document, "bearer")
    assert caught.value.message == "source 'slots' declares no server for GET /secure/bearer"
    assert caught.value.hint == "Give one with --server slots=URL."
    assert build(
        document, "bearer", options=spola.make_options(servers={"slots": "http://h/"})
    ).request.url == ("http://h/secure/bearer")


def test_a_step_without_operation_has_no_request(slots: Document) -> None:
    workflow = slots.workflows[0]
    plan = plan_step(slots, workflow, workflow.steps[0], spola.make_options())
    bare = msgspec.structs.replace(plan, operation=None, request=None)
    with pytest.raises(RequestBuildError, match="has no operation"):
        bare.build(Scope(), spola.make_options())


def test_shared_plans_by_step_follow_the_options_asked_with(slots: Document) -> None:
    workflow = slots.workflows[0]
    step = workflow.step("search")
    assert step is not None
    one = spola.make_options(servers={"slots": "http://one.example"})
    two = spola.make_options(servers={"slots": "http://two.example"})
    slow = msgspec.structs.replace(one, http_timeout=5.0)
    for _ in range(2):  # alternating: the last-plan slot must not answer for other options
        assert shared_plan(slots, workflow, step, one).base == "http://one.example"
        assert shared_plan(slots, workflow, step, two).base == "http://two.example"
        assert shared_plan(slots, workflow, step, slow).timeout == 5.0
        assert shared_plan(slots, workflow, step, one).timeout == 30.0
    assert shared_plan(slots, workflow, step, one) is shared_plan(slots, workflow, step, one)

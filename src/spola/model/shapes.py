"""The fixed fields of every Arazzo object, and the enumerations the spec allows, per version."""

from __future__ import annotations

from spola.model.fields import Shape

ROOT = Shape(
    "Arazzo Specification Object",
    ("arazzo", "$self", "info", "sourceDescriptions", "workflows", "components"),
    required=("arazzo", "info", "sourceDescriptions", "workflows"),
    since_11=("$self",),
)
INFO = Shape("Info Object", ("title", "summary", "description", "version"), required=("title", "version"))
SOURCE = Shape("Source Description Object", ("name", "url", "type"), required=("name", "url"))
WORKFLOW = Shape(
    "Workflow Object",
    (
        "workflowId",
        "summary",
        "description",
        "inputs",
        "dependsOn",
        "steps",
        "successActions",
        "failureActions",
        "outputs",
        "parameters",
    ),
    required=("workflowId", "steps"),
)
STEP = Shape(
    "Step Object",
    (
        "description",
        "stepId",
        "operationId",
        "operationPath",
        "channelPath",
        "workflowId",
        "parameters",
        "requestBody",
        "successCriteria",
        "onSuccess",
        "onFailure",
        "outputs",
        "timeout",
        "correlationId",
        "action",
        "dependsOn",
    ),
    required=("stepId",),
    since_11=("channelPath", "timeout", "correlationId", "action", "dependsOn"),
)
PARAMETER = Shape("Parameter Object", ("name", "in", "value"), required=("name", "value"))
SUCCESS_ACTION = Shape(
    "Success Action Object",
    ("name", "type", "workflowId", "stepId", "parameters", "criteria"),
    required=("name", "type"),
    since_11=("parameters",),
)
FAILURE_ACTION = Shape(
    "Failure Action Object",
    ("name", "type", "workflowId", "stepId", "parameters", "retryAfter", "retryLimit", "criteria"),
    required=("name", "type"),
    since_11=("parameters",),
)
COMPONENTS = Shape("Components Object", ("inputs", "parameters", "successActions", "failureActions"))
REUSABLE = Shape(
    "Reusable Object", ("reference", "value"), required=("reference",), extensible=False, ignore_unknown=True
)
CRITERION = Shape("Criterion Object", ("context", "condition", "type"), required=("condition",))
EXPRESSION_TYPE = Shape("Expression Type Object", ("type", "version"), required=("type", "version"))
SELECTOR = Shape("Selector Object", ("context", "selector", "type"), required=("context", "selector", "type"))
REQUEST_BODY = Shape("Request Body Object", ("contentType", "payload", "replacements"))
REPLACEMENT = Shape(
    "Payload Replacement Object",
    ("target", "targetSelectorType", "value"),
    required=("target", "value"),
    since_11=("targetSelectorType",),
)

SOURCE_TYPES = {(1, 0): ("openapi", "arazzo"), (1, 1): ("openapi", "asyncapi", "arazzo")}
PARAMETER_IN = {
    (1, 0): ("path", "query", "header", "cookie"),
    (1, 1): ("path", "query", "querystring", "header", "cookie", "channel"),
}
CRITERION_TYPES = ("simple", "regex", "jsonpath", "xpath")
SUCCESS_TYPES = ("end", "goto")
FAILURE_TYPES = ("end", "retry", "goto")
ACTIONS = ("send", "receive")
SELECTOR_TYPES = ("jsonpath", "xpath", "jsonpointer")
EXPRESSION_VERSIONS = {
    (1, 0): {
        "jsonpath": ("draft-goessner-dispatch-jsonpath-00",),
        "xpath": ("xpath-30", "xpath-20", "xpath-10"),
    },
    (1, 1): {
        "jsonpath": ("rfc9535", "draft-goessner-dispatch-jsonpath-00"),
        "xpath": ("xpath-31", "xpath-30", "xpath-20", "xpath-10"),
        "jsonpointer": ("rfc6901",),
    },
}

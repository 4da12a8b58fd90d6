"""Criteria, selectors, payload replacement and value trees: pure, no I/O, no clock.

- `compile_criterion` → `CompiledCriterion`; ``evaluate(scope)`` → `Verdict` (never raises);
- `compile_selector` → a `Selector` with ``select(value)``;
- `replace` sets a value inside a payload (JSON Pointer, JSONPath, XPath);
- `compile_value` → `Value`: payloads, parameter values and outputs, with ``evaluate(scope)``.
"""

from spola.criteria.criterion import CompiledCriterion, compile_criterion
from spola.criteria.dialect import DialectCondition, parse_dialect
from spola.criteria.jsonpath import COMPARISON_DIALECT, GOESSNER, RFC9535, classify
from spola.criteria.regex import LINEAR_TIME
from spola.criteria.replace import replace
from spola.criteria.selectors import (
    JsonPathSelector,
    PointerSelector,
    Selector,
    XPathSelector,
    compile_selector,
)
from spola.criteria.types import CRITERION_TYPES, SELECTOR_TYPES, VERSIONS, expression_type
from spola.criteria.values import Value, compile_value, is_selector_object
from spola.criteria.verdict import Verdict

__all__ = [
    "COMPARISON_DIALECT",
    "CRITERION_TYPES",
    "GOESSNER",
    "LINEAR_TIME",
    "RFC9535",
    "SELECTOR_TYPES",
    "VERSIONS",
    "CompiledCriterion",
    "DialectCondition",
    "JsonPathSelector",
    "PointerSelector",
    "Selector",
    "Value",
    "Verdict",
    "XPathSelector",
    "classify",
    "compile_criterion",
    "compile_selector",
    "compile_value",
    "expression_type",
    "is_selector_object",
    "parse_dialect",
    "replace",
]

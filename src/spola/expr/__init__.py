"""Runtime expressions, templates and `simple` conditions: pure, no I/O, no clock.

- `parse_expression` reads one runtime expression (``$response.body#/id``);
- `parse_template` reads a string value with ``{$expr}`` parts or bare ``$inputs.x`` expressions;
- `parse_embedded` reads a regex / JSONPath / XPath condition, where only ``{$expr}`` counts;
- `parse_condition` reads a `simple` condition (``$statusCode == 200 && ...``);
- `Scope` is what they read; `MISSING` stands for what is not there.
"""

from spola.expr.compare import loose_compare, loose_equal, loose_truthy
from spola.expr.condition import Condition, parse_condition
from spola.expr.navigate import join_pointer, lookup_dotted, resolve_pointer, split_pointer
from spola.expr.nodes import ROOTS, Expression, Index, Key, Pointer, Reference
from spola.expr.scanner import SHORTHAND, parse_expression
from spola.expr.scope import MISSING, Headers, RequestView, ResponseView, Scope, is_missing
from spola.expr.template import Embedded, Template, parse_embedded, parse_template, stringify

__all__ = [
    "MISSING",
    "ROOTS",
    "SHORTHAND",
    "Condition",
    "Embedded",
    "Expression",
    "Headers",
    "Index",
    "Key",
    "Pointer",
    "Reference",
    "RequestView",
    "ResponseView",
    "Scope",
    "Template",
    "is_missing",
    "join_pointer",
    "lookup_dotted",
    "loose_compare",
    "loose_equal",
    "loose_truthy",
    "parse_condition",
    "parse_embedded",
    "parse_expression",
    "parse_template",
    "resolve_pointer",
    "split_pointer",
    "stringify",
]

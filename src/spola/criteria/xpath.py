"""`xpath` criteria and XPath helpers, on elementpath (XPath 1.0 to 3.1) over lxml.

The version (``xpath-31`` by default, ``xpath-30``, ``xpath-20``, ``xpath-10``) picks the parser,
so syntax, functions and the Effective Boolean Value are that version's. XML is parsed with
entity expansion, DTD loading and network access turned off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import elementpath
from elementpath import XPath1Parser, XPath2Parser, XPathContext, XPathToken
from elementpath.xpath30 import XPath30Parser
from elementpath.xpath31 import XPath31Parser
from lxml import etree
from msgspec import Struct, field

from spola.criteria.verdict import PASS, Verdict
from spola.errors import ExpressionError, Location
from spola.expr import MISSING, parse_embedded
from spola.structs import ComparedOn

if TYPE_CHECKING:
    from spola.expr import Expression, Scope, Template

PARSERS: Final[dict[str, type[XPath1Parser]]] = {
    "xpath-10": XPath1Parser,
    "xpath-20": XPath2Parser,
    "xpath-30": XPath30Parser,
    "xpath-31": XPath31Parser,
}
_CACHE_SIZE: Final = 64


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


def _as_expression_error(exc: elementpath.ElementPathError, version: str) -> ExpressionError:
    span = getattr(getattr(exc, "token", None), "span", None)
    offset = span[0] if isinstance(span, tuple) else None
    return ExpressionError(f"invalid XPath ({version}): {exc.message}", Location(offset=offset))


def compile_xpath(
    text: str, version: str = "xpath-31", namespaces: dict[str, str] | None = None
) -> XPathToken:
    """Parse an XPath expression for a version, with namespace prefixes.

    Raises:
        ExpressionError: with the offset of the problem.
    """
    try:
        return PARSERS[version](namespaces=namespaces).parse(text)
    except elementpath.ElementPathError as exc:
        raise _as_expression_error(exc, version) from exc


class XPathProgram(ComparedOn, Struct, frozen=True, eq=False):
    """An XPath parsed once; one using prefixes the document declares is parsed per document."""

    text: str
    version: str
    token: XPathToken | None
    cache: dict[tuple[tuple[str, str], ...], XPathToken] = field(default_factory=dict)

    # equality and hash leave the cache out (a dataclass's compare=False)
    _COMPARED = ("text", "version", "token")

    def run(self, document: Any) -> tuple[XPathToken, Any]:
        """Evaluate against a parsed document; returns the token used and the result."""
        namespaces = document_namespaces(document)
        token = self.token
        if token is None:
            key = tuple(sorted(namespaces.items()))
            token = self.cache.get(key)
            if token is None:
                token = compile_xpath(self.text, self.version, namespaces)
                if len(self.cache) >= _CACHE_SIZE:
                    self.cache.clear()
                self.cache[key] = token
        return token, token.evaluate(XPathContext(document, namespaces=namespaces))


def prepare_xpath(text: str, version: str = "xpath-31") -> XPathProgram:
    """Parse an XPath now; prefixes it does not declare are left to the document to declare.

    Raises:
        ExpressionError: for invalid XPath.
    """
    try:
        return XPathProgram(text, version, PARSERS[version]().parse(text))
    except elementpath.ElementPathError as exc:
        if str(exc.code or "").endswith("XPST0081"):  # an undeclared prefix: the document may declare it
            return XPathProgram(text, version, None)
        raise _as_expression_error(exc, version) from exc


def parse_xml(value: Any) -> Any:
    """Parse an XML document from text or bytes, safely.

    Raises:
        ValueError: when the value is not text or is not well-formed XML.
    """
    if isinstance(value, str):
        data = value.encode("utf-8")
        if value.lstrip().startswith("<?xml"):
            # lxml refuses str input with an encoding declaration; drop it, the text is decoded.
            data = value.lstrip().split("?>", 1)[1].encode("utf-8")
    elif isinstance(value, bytes | bytearray):
        data = bytes(value)
    else:
        raise ValueError("the context is not XML text")
    try:
        return etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the context is not well-formed XML: {exc}") from exc


def document_namespaces(document: Any) -> dict[str, str]:
    """The prefixed namespaces the document's root element declares."""
    return {prefix: uri for prefix, uri in document.getroot().nsmap.items() if prefix}


def run_xpath(program: XPathProgram, document: Any) -> Any:
    """Evaluate a prepared XPath against a parsed document."""
    return program.run(document)[1]


class XPathCheck(ComparedOn, Struct, frozen=True, eq=False):
    """Evaluates an xpath condition against an XML context by the version's Effective Boolean Value."""

    template: Template
    version: str
    fixed: XPathProgram | None = None
    cache: dict[str, XPathProgram] = field(default_factory=dict)

    # equality and hash leave the cache out (a dataclass's compare=False)
    _COMPARED = ("template", "version", "fixed")

    @property
    def expressions(self) -> tuple[Expression, ...]:
        """The runtime expressions embedded in the condition."""
        return self.template.expressions

    def _program(self, scope: Scope) -> XPathProgram:
        if self.fixed is not None:
            return self.fixed
        text = self.template.evaluate(scope)
        if text is MISSING:
            raise ExpressionError(f"an expression embedded in `{self.template.text}` is missing")
        program = self.cache.get(text)
        if program is None:
            program = prepare_xpath(text, self.version)
            if len(self.cache) >= _CACHE_SIZE:
                self.cache.clear()
            self.cache[text] = program
        return program

    def check(self, context: Any, scope: Scope) -> Verdict:
        """The verdict for a context value (XML text or bytes)."""
        program = self._program(scope)
        try:
            document = parse_xml(context)
        except ValueError as exc:
            return Verdict(False, str(exc))
        try:
            token, result = program.run(document)
            passed = bool(token.boolean_value(result))
        except elementpath.ElementPathError as exc:
            return Verdict(False, f"XPath evaluation failed: {exc.message}")
        return PASS if passed else Verdict(False, "the XPath result's effective boolean value is false")


def compile_xpath_check(condition: str, version: str = "xpath-31") -> XPathCheck:
    """Prepare an xpath criterion; a condition without ``{$expr}`` parts is parsed now.

    Raises:
        ExpressionError: for invalid XPath.
    """
    template = parse_embedded(condition)
    if template.is_literal:
        return XPathCheck(template, version, prepare_xpath(condition, version))
    return XPathCheck(template, version)

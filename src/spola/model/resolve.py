"""The sources phase: load each source description, then resolve what every step calls.

operationId (plain, unique across the OpenAPI sources, or ``$sourceDescriptions.<name>.<id>``),
operationPath (``{$sourceDescriptions.<name>.url}#/paths/...``) and references into other Arazzo
documents (workflowId, dependsOn) are all checked here, each problem a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin

from spola.model import operations as ops
from spola.model.fields import did_you_mean
from spola.model.openapi import OpenApiError, index_openapi
from spola.model.pointers import join
from spola.model.refs import RefResolver
from spola.model.refs_text import parse_step_dependency, parse_workflow_ref
from spola.model.resolution import Resolution
from spola.model.sources import Fetcher, Source, SourceError, detect_type, uri_to_display

if TYPE_CHECKING:
    from spola.model.collector import Collector
    from spola.model.document import Document, FailureAction, SuccessAction
    from spola.model.source_description import SourceDescription

LoadChild = Callable[[str], "Document | None"]


def resolve_document(
    c: Collector, document: Document, fetcher: Fetcher, family: dict[str, Document], load_child: LoadChild
) -> Resolution:
    """Load the sources of a document and resolve every step's target; findings go to ``c``."""
    result = Resolution()
    base = document.uri or ""
    for description in document.source_descriptions:
        source = _load_source(
            c, description=description, base=base, fetcher=fetcher, family=family, load_child=load_child
        )
        if source is None:
            result.failed.add(description.name)
        else:
            result.sources[description.name] = source
    ops.resolve_steps(c, document, result, fetcher)
    _cross_document_refs(c, document, result, family)
    return result


def _load_source(
    c: Collector,
    *,
    description: SourceDescription,
    base: str,
    fetcher: Fetcher,
    family: dict[str, Document],
    load_child: LoadChild,
) -> Source | None:
    where = join(description.pointer, "url")
    uri = urldefrag(urljoin(base, description.url))[0]
    by_identity = next((d for d in family.values() if d.self_uri and d.self_uri == description.url), None)
    if by_identity is not None and by_identity.uri:
        uri = by_identity.uri
    if description.type == "arazzo" or uri in family:
        return _arazzo_source(c, description, uri, family, load_child)
    try:
        parsed = fetcher.parsed(uri)
    except SourceError as exc:
        c.error(
            where, f"cannot load source '{description.name}': {exc.message}", hint=exc.hint, rule="source"
        )
        return None
    if not parsed.ok:
        first = parsed.findings[0]
        c.error(
            where,
            f"source '{description.name}' ({uri_to_display(uri)}) is not valid YAML/JSON: "
            f"{first.message} at line {first.location.line}",
            rule="source",
        )
        return None
    detected = detect_type(parsed.data)
    declared = description.type
    if detected == "arazzo":
        return _arazzo_source(c, description, uri, family, load_child)
    if (
        declared is not None
        and detected not in (declared, None)
        and not (declared == "openapi" and detected == "swagger")
    ):
        c.error(
            where,
            f"source '{description.name}' is declared as {declared} but "
            f"{uri_to_display(uri)} is an {detected} document",
            rule="source",
        )
        return None
    kind = declared or detected
    if kind is None:
        c.error(
            where,
            f"cannot tell what kind of description {uri_to_display(uri)} is (no 'openapi', "
            "'asyncapi' or 'arazzo' field)",
            hint="add `type:` to the source description",
            rule="source",
        )
        return None
    if kind == "asyncapi":
        return Source(description, "asyncapi", uri, uri_to_display(uri), raw=parsed.data)
    resolver = RefResolver(fetcher.tree)
    try:
        desc = index_openapi(parsed.data, uri, uri_to_display(uri), resolver)
    except OpenApiError as exc:
        c.error(where, f"source '{description.name}' ({uri_to_display(uri)}) {exc}", rule="source")
        return None
    return Source(description, "openapi", uri, desc.file, openapi=desc, raw=parsed.data)


def _arazzo_source(
    c: Collector, description: SourceDescription, uri: str, family: dict[str, Document], load_child: LoadChild
) -> Source | None:
    child = family.get(uri) or load_child(uri)
    if child is None:
        c.error(
            join(description.pointer, "url"),
            f"Arazzo source '{description.name}' ({uri_to_display(uri)}) could not be loaded",
            rule="source",
        )
        return None
    return Source(description, "arazzo", uri, uri_to_display(uri), raw=child.raw)


def _cross_document_refs(
    c: Collector, document: Document, result: Resolution, family: dict[str, Document]
) -> None:
    def check(source: str, workflow_id: str, where: str, step_id: str | None = None) -> None:
        if document.source(source) is None:
            names = [s.name for s in document.source_descriptions]
            c.error(
                where,
                f"no source description named '{source}'",
                hint=did_you_mean(source, names),
                rule="reference",
            )
            return
        if source in result.failed:
            return
        loaded = result.sources.get(source)
        child = family.get(loaded.location) if loaded is not None else None
        if child is None or loaded is None or loaded.type != "arazzo":
            c.error(
                where,
                f"source '{source}' is not an Arazzo document, so it has no workflows",
                rule="reference",
            )
            return
        ids = [w.workflow_id for w in child.workflows]
        if workflow_id not in ids:
            c.error(
                where,
                f"no workflow '{workflow_id}' in Arazzo source '{source}'",
                hint=did_you_mean(workflow_id, ids) or f"workflows: {', '.join(ids)}",
                rule="reference",
            )
            return
        if step_id is not None:
            steps = [s.step_id for s in child.workflow(workflow_id).steps]
            if step_id not in steps:
                c.error(
                    where,
                    f"no step '{step_id}' in workflow '{workflow_id}' of source '{source}'",
                    hint=did_you_mean(step_id, steps),
                    rule="reference",
                )

    def workflow_ref(ref: str, where: str) -> None:
        parsed = parse_workflow_ref(ref)
        if parsed is not None and parsed[0] is not None:
            check(parsed[0], parsed[1], where)

    for workflow in document.workflows:
        for index, ref in enumerate(workflow.depends_on):
            workflow_ref(ref, join(workflow.pointer, "dependsOn", index))
        actions: list[SuccessAction | FailureAction] = [*workflow.success_actions, *workflow.failure_actions]
        for step in workflow.steps:
            actions.extend(step.on_success)
            actions.extend(step.on_failure)
            if step.workflow_id is not None:
                workflow_ref(step.workflow_id, join(step.pointer, "workflowId"))
            for index, text in enumerate(step.depends_on):
                dep = parse_step_dependency(text)
                if dep is not None and dep.source is not None and dep.workflow_id is not None:
                    check(dep.source, dep.workflow_id, join(step.pointer, "dependsOn", index), dep.step_id)
        for action in actions:
            if action.workflow_id is not None and action.type != "end":
                workflow_ref(action.workflow_id, join(action.pointer, "workflowId"))

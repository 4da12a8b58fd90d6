"""Operation look-up for steps: operationId and operationPath → ``Operation``, at load time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spola.model.fields import did_you_mean
from spola.model.openapi import OpenApiError, build_operation
from spola.model.operation import Operation
from spola.model.pointers import join
from spola.model.refs import RefError, RefResolver
from spola.model.refs_text import parse_operation_path, parse_qualified

if TYPE_CHECKING:
    from spola.model.collector import Collector
    from spola.model.document import Document, Step
    from spola.model.resolution import Resolution
    from spola.model.sources import Fetcher, Source

_PATH_FORM = "{$sourceDescriptions.<name>.url}#/paths/~1pets~1{petId}/get"


class _Lookup:
    def __init__(self, c: Collector, document: Document, result: Resolution, fetcher: Fetcher) -> None:
        self.c = c
        self.document = document
        self.result = result
        self.fetcher = fetcher
        self.resolvers: dict[str, RefResolver] = {}
        self.openapi = [s for s in result.sources.values() if s.type == "openapi" and s.openapi is not None]
        self.has_async = any(s.type == "asyncapi" for s in result.sources.values())
        self.some_failed = bool(result.failed)

    def build(self, step: Step, field: str, source: Source, pointer: str) -> None:
        assert source.openapi is not None
        resolver = self.resolvers.get(source.location)
        if resolver is None:
            resolver = RefResolver(self.fetcher.tree, merge_siblings=source.openapi.merge_siblings)
            self.resolvers[source.location] = resolver
        try:
            operation = build_operation(source.openapi, source.description.name, pointer, resolver)
        except (RefError, OpenApiError) as exc:
            self.c.error(
                join(step.pointer, field),
                f"operation of source '{source.description.name}': {exc}",
                rule="operation",
            )
            return
        if step.action is not None:
            self.c.warn(join(step.pointer, "action"), "ignored: 'action' applies to AsyncAPI operations only")
        self.result.operations[step.pointer] = operation

    def source_named(self, step: Step, field: str, name: str) -> Source | None:
        if self.document.source(name) is None:
            names = [s.name for s in self.document.source_descriptions]
            self.c.error(
                join(step.pointer, field),
                f"no source description named '{name}'",
                hint=did_you_mean(name, names) or f"sources: {', '.join(names)}",
                rule="operation",
            )
            return None
        return self.result.sources.get(name)  # None: it failed to load, already reported

    def by_id(self, step: Step, text: str) -> None:
        parsed = parse_qualified(text)
        if parsed is None:
            self.c.error(
                join(step.pointer, "operationId"),
                f"'{text}' is neither an operationId nor $sourceDescriptions.<name>.<operationId>",
                rule="operation",
            )
            return
        name, operation_id = parsed
        if name is not None:
            source = self.source_named(step, "operationId", name)
            if source is not None:
                self.in_source(step, source, operation_id)
            return
        found = [(s, p) for s in self.openapi for p in s.openapi.operation_ids.get(operation_id, ())]  # type: ignore[union-attr]
        if len(found) == 1:
            self.build(step, "operationId", found[0][0], found[0][1])
        elif len(found) > 1:
            forms = ", ".join(
                sorted({f"$sourceDescriptions.{s.description.name}.{operation_id}" for s, _ in found})
            )
            self.c.error(
                join(step.pointer, "operationId"),
                f"operationId '{operation_id}' is ambiguous: "
                f"several operations have it; write one of {forms}",
                rule="operation",
            )
        elif step.action is not None or (self.has_async and not self.openapi):
            self.result.async_steps.add(step.pointer)
        elif not self.some_failed:
            known = [i for s in self.openapi for i in s.openapi.operation_ids]  # type: ignore[union-attr]
            where = ", ".join(s.description.name for s in self.openapi) or "no OpenAPI source"
            self.unknown(step, operation_id, known, f"in {where}")

    def in_source(self, step: Step, source: Source, operation_id: str) -> None:
        if source.type == "asyncapi":
            self.result.async_steps.add(step.pointer)
            return
        if source.type == "arazzo" or source.openapi is None:
            self.c.error(
                join(step.pointer, "operationId"),
                f"source '{source.description.name}' is an "
                f"{source.type} document: call its workflows with workflowId",
                rule="operation",
            )
            return
        found = source.openapi.operation_ids.get(operation_id, ())
        if not found:
            self.unknown(
                step,
                operation_id,
                list(source.openapi.operation_ids),
                f"in source '{source.description.name}'",
            )
        elif len(found) > 1:
            self.c.error(
                join(step.pointer, "operationId"),
                f"operationId '{operation_id}' appears "
                f"{len(found)} times in {source.file} ({', '.join(found)})",
                rule="operation",
            )
        else:
            self.build(step, "operationId", source, found[0])

    def unknown(self, step: Step, operation_id: str, known: list[str], where: str) -> None:
        self.c.error(
            join(step.pointer, "operationId"),
            f"unknown operationId '{operation_id}' {where}",
            hint=did_you_mean(operation_id, known),
            rule="operation",
        )

    def by_path(self, step: Step, text: str) -> None:
        ref = parse_operation_path(text)
        where = join(step.pointer, "operationPath")
        if ref is None:
            self.c.error(where, f"'{text}' is not an operationPath; write {_PATH_FORM}", rule="operation")
            return
        source: Source | None = None
        if ref.source is not None:
            source = self.source_named(step, "operationPath", ref.source)
            if source is None:
                return
        else:
            source = next(
                (s for s in self.result.sources.values() if ref.url in (s.description.url, s.location)), None
            )
            if source is None:
                if not self.some_failed:
                    self.c.error(
                        where,
                        f"'{ref.url}' is not the url of a source description; write {_PATH_FORM}",
                        rule="operation",
                    )
                return
        if source.type == "asyncapi":
            self.result.async_steps.add(step.pointer)
        elif source.openapi is None:
            self.c.error(
                where,
                f"source '{source.description.name}' is an {source.type} document, not OpenAPI",
                rule="operation",
            )
        elif not ref.fragment.startswith("/"):
            self.c.error(
                where,
                f"the part after '#' must be a JSON Pointer such as /paths/~1pets/get, not '{ref.fragment}'",
                rule="operation",
            )
        else:
            self.build(step, "operationPath", source, ref.fragment)


def resolve_steps(c: Collector, document: Document, result: Resolution, fetcher: Fetcher) -> None:
    """Find the operation of every operation step; asynchronous steps are only recorded."""
    lookup = _Lookup(c, document, result, fetcher)
    for workflow in document.workflows:
        for step in workflow.steps:
            if step.workflow_id is not None:
                continue
            if step.channel_path is not None:
                result.async_steps.add(step.pointer)
            elif step.operation_id is not None:
                lookup.by_id(step, step.operation_id)
            elif step.operation_path is not None:
                lookup.by_path(step, step.operation_path)


__all__ = ["Operation", "resolve_steps"]

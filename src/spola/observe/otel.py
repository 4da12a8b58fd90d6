"""OpenTelemetry traces of runs (the ``otel`` extra): a span per run, per step execution, per HTTP request.

Enable it with ``spola run --otel``, ``SPOLA_OTEL=1``, or from Python ``spola.observe.otel.enable()``
(pass your own ``TracerProvider`` to use it; otherwise the global one, or, when that is not configured,
an SDK provider built from the standard ``OTEL_*`` variables: ``OTEL_TRACES_EXPORTER`` ``otlp`` (the
default; OTLP over HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``, default ``http://localhost:4318``),
``console`` (to stderr) or ``none``; ``OTEL_SERVICE_NAME``, default ``spola``).

Spans (all redacted: URLs through the run's redactor, no headers or bodies):

- ``spola.run <workflowId>`` (internal): ``spola.run_id``, ``spola.workflow_id``, ``spola.status``;
  error status when the run did not succeed.
- ``spola.step <stepId>`` (internal, child of the run): ``spola.workflow_id``, ``spola.step_id``,
  ``spola.execution`` (the poll count), ``spola.attempt``, ``http.response.status_code``,
  ``spola.passed``, ``spola.next``, ``spola.remote_state.<output>`` per remote-state value.
- ``<METHOD>`` (client, child of the step): ``http.request.method``, ``url.full``,
  ``http.response.status_code``, ``spola.attempt``, ``error.type`` on a transport failure. Its context
  goes out on the request as W3C ``traceparent`` (and ``tracestate``).

This module imports OpenTelemetry; nothing else in spola does until tracing is enabled.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import msgspec.structs
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from spola import __version__
from spola.core.events import StepFinished, StepStarted, Waiting
from spola.errors import UsageError
from spola.observe import set_tracer

if TYPE_CHECKING:
    import aiohttp

    from spola.core.actions import SendRequest
    from spola.core.engine import Run
    from spola.core.events import Event
    from spola.exchange import HttpResponse
    from spola.observe import Sender

_PROVIDERS: list[Any] = []


def _attribute(value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | float | str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


class OtelRunTrace:
    """The spans of one run."""

    def __init__(self, tracer: trace.Tracer, run: Run) -> None:
        self.tracer = tracer
        self.redactor = run.redactor
        workflow = run.root.workflow.workflow_id
        self.span = tracer.start_span(
            f"spola.run {workflow}",
            kind=SpanKind.INTERNAL,
            attributes={"spola.run_id": run.run_id, "spola.workflow_id": workflow},
        )
        self.context = trace.set_span_in_context(self.span)
        self.steps: dict[tuple[str, str], trace.Span] = {}
        self.ended = False

    def observe(self, event: Event) -> None:
        """Open a step span on ``StepStarted``, close it on ``StepFinished``."""
        if isinstance(event, StepStarted):
            key = (event.workflow_id, event.step_id)
            stale = self.steps.pop(key, None)
            if stale is not None:
                stale.end()
            self.steps[key] = self.tracer.start_span(
                f"spola.step {event.step_id}",
                context=self.context,
                kind=SpanKind.INTERNAL,
                attributes={
                    "spola.workflow_id": event.workflow_id,
                    "spola.step_id": event.step_id,
                    "spola.execution": event.execution,
                    "spola.attempt": getattr(event, "attempt", 1),
                },
            )
        elif isinstance(event, StepFinished):
            span = self.steps.pop((event.workflow_id, event.step_id), None)
            if span is None:
                return
            if event.status_code is not None:
                span.set_attribute("http.response.status_code", event.status_code)
            span.set_attribute("spola.passed", event.passed)
            span.set_attribute("spola.next", event.next)
            for name, value in getattr(event, "remote_state", ()) or ():
                span.set_attribute(f"spola.remote_state.{name}", _attribute(value))
            if not event.passed:
                span.set_status(Status(StatusCode.ERROR, "; ".join(event.reasons)[:500] or None))
            span.end()
        elif isinstance(event, Waiting):
            self.span.add_event(
                "spola.waiting", {"spola.step_id": event.step_id, "spola.seconds": event.seconds}
            )

    def wrap(self, sender: Sender) -> Sender:
        """Send inside a client span whose context travels as ``traceparent``."""

        async def send(session: aiohttp.ClientSession, action: SendRequest) -> HttpResponse:
            workflow = action.step_path.rsplit("/", 1)[0].split(">")[-1]
            parent = self.steps.get((workflow, action.step_id))
            context = trace.set_span_in_context(parent) if parent is not None else self.context
            request = action.request
            span = self.tracer.start_span(
                request.method.upper(),
                context=context,
                kind=SpanKind.CLIENT,
                attributes={
                    "http.request.method": request.method.upper(),
                    "url.full": self.redactor.redact_url(request.url),
                    "spola.step_id": action.step_id,
                    "spola.attempt": action.attempt,
                },
            )
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=trace.set_span_in_context(span))
            headers = tuple((k, v) for k, v in request.headers if k.lower() not in carrier)
            traced = msgspec.structs.replace(
                action, request=msgspec.structs.replace(request, headers=headers + tuple(carrier.items()))
            )
            try:
                response = await sender(session, traced)
            except BaseException as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.end()
                raise
            if response.status is not None:
                span.set_attribute("http.response.status_code", response.status)
                if response.status >= 400:
                    span.set_status(Status(StatusCode.ERROR))
            else:
                span.set_attribute("error.type", "transport")
                span.set_status(Status(StatusCode.ERROR, self.redactor.redact_text(response.error or "")))
            span.end()
            return response

        return send

    def end(self, status: str, error: str | None) -> None:
        """Close the open step spans and the run span."""
        if self.ended:
            return
        self.ended = True
        for span in self.steps.values():
            span.end()
        self.steps.clear()
        self.span.set_attribute("spola.status", status)
        if status != "succeeded":
            self.span.set_status(Status(StatusCode.ERROR, self.redactor.redact_text(error or status)[:500]))
        self.span.end()


class OtelTracer:
    """Makes an `OtelRunTrace` per run from a tracer provider."""

    def __init__(self, provider: Any | None = None) -> None:
        source = provider if provider is not None else trace.get_tracer_provider()
        self.tracer = source.get_tracer("spola", __version__)

    def start(self, run: Run) -> OtelRunTrace:
        """Open the run's span."""
        return OtelRunTrace(self.tracer, run)


def _provider_from_env() -> Any:
    """An SDK tracer provider with the exporter the ``OTEL_*`` variables ask for."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    name = os.environ.get("OTEL_SERVICE_NAME") or "spola"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    kind = (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").strip().lower()
    if kind == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif kind == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError as exc:  # pragma: no cover - the extra declares it
            raise UsageError(
                "OTLP export needs opentelemetry-exporter-otlp-proto-http",
                hint="Install spola with the otel extra: pip install 'spola[otel]'.",
            ) from exc
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif kind != "none":
        raise UsageError(f"OTEL_TRACES_EXPORTER={kind} is not one spola knows (otlp, console or none)")
    return provider


def enable(provider: Any | None = None) -> OtelTracer:
    """Trace every run from now on; returns the tracer.

    ``provider``: your ``TracerProvider``; default the global one when the application set it up,
    else one built from the ``OTEL_*`` variables (flushed by `shutdown`).
    """
    if provider is None and not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        provider = trace.get_tracer_provider()
    if provider is None:
        provider = _provider_from_env()
        _PROVIDERS.append(provider)
    tracer = OtelTracer(provider)
    set_tracer(tracer)
    return tracer


def shutdown() -> None:
    """Stop tracing and flush the spans of the providers `enable` built."""
    set_tracer(None)
    while _PROVIDERS:
        _PROVIDERS.pop().shutdown()

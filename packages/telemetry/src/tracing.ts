import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { randomBytes } from 'node:crypto';

export { SpanKind, SpanStatusCode, type Span };

let provider: TracerProvider | undefined;

/** Whether this process exports traces (OTEL_EXPORTER_OTLP_ENDPOINT was set when it started tracing). */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/**
 * Starts OpenTelemetry tracing for this process when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans go
 * in batches to `<endpoint>/v1/traces` (OTLP/HTTP, JSON), W3C trace context is the propagator.
 * Without the variable nothing is registered and every span is the API's no-op: tracing is off and
 * costs nothing. Idempotent: the first caller's name is the process's `service.name` (unless
 * OTEL_SERVICE_NAME says otherwise).
 *
 * @example
 * startTracing('order');   // in a service's start-up, before it takes work
 * await stopTracing();      // at shutdown: flushes what is buffered
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): void {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (provider !== undefined || !endpoint) return;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || service }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500, maxQueueSize: 8192 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
}

/** Flushes and stops the exporter (no-op when tracing is off). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  if (p === undefined) return;
  await p.forceFlush().catch(() => undefined);
  await p.shutdown().catch(() => undefined);
}

/** The tracer of one service (its name is the instrumentation scope). */
export function tracer(service: string) {
  return trace.getTracer(service);
}

/** The context a `traceparent` (header or envelope field) describes; the root context when absent or invalid. */
export function contextOf(traceparent: string | undefined): Context {
  if (traceparent === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The `traceparent` of a span (W3C format), for headers and envelopes. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent;
}

/** Headers that carry the active trace to a downstream HTTP call (none when there is none). */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The `traceparent` of the active span, if any (undefined when tracing is off or no span is active). */
export function activeTraceparent(): string | undefined {
  return traceHeaders().traceparent;
}

/** Runs `fn` with the trace of `traceparent` active (so its HTTP calls carry it). */
export function withTraceparent<T>(traceparent: string | undefined, fn: () => T): T {
  return traceparent === undefined ? fn() : context.with(contextOf(traceparent), fn);
}

/**
 * Starts a span as a child of `parent` (a traceparent) or of the active context.
 *
 * @example
 * const span = startSpan('inventory', 'process ReserveStock', SpanKind.CONSUMER, env.traceparent, { 'saga.id': env.sagaId });
 * try { ... } finally { span.end(); }
 */
export function startSpan(service: string, name: string, kind: SpanKind, parent?: string | Context, attributes?: Attributes): Span {
  const ctx = typeof parent === 'string' ? contextOf(parent) : (parent ?? context.active());
  return tracer(service).startSpan(name, { kind, attributes }, ctx);
}

/** Marks a span failed with the error's message. */
export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : new Error(String(err)));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`), for log lines. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent);
  return m ? m[1] : undefined;
}

/**
 * A new root traceparent (random ids, sampled), for an edge that received none while tracing is
 * off: logs of one request and its saga still share a trace id, at the cost of 24 random bytes.
 */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** Runs `fn` inside `span`'s context (callbacks, promises and awaits inside see it as active). */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

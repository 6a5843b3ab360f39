import {
  ENVELOPE_HEADERS,
  EnvelopeSchema,
  MESSAGE_SCHEMAS,
  SCHEMA_VERSION,
  TOPICS,
  uuidv7,
  type Envelope,
  type MessageType,
  type PayloadOf,
} from '@saga/contracts';
import { activeTraceparent } from '@saga/telemetry';
import type { OutgoingMessage } from './ports';

/** Metadata of a new message; the correlation id defaults to the saga id, the traceparent to the active span's. */
export interface EnvelopeMeta {
  sagaId: string;
  correlationId?: string;
  causationId?: string | null;
  traceparent?: string;
}

/**
 * Builds the envelope of a new message: a fresh UUIDv7 id, the current schema version and time.
 * The payload is checked against its schema, so a bad payload fails where it is made (ZodError).
 *
 * @example
 * const env = newEnvelope('ReserveStock', { orderId, items }, { sagaId: orderId, causationId: cmd.id });
 */
export function newEnvelope<T extends MessageType>(type: T, payload: PayloadOf<T>, meta: EnvelopeMeta): Envelope<PayloadOf<T>> {
  const env: Envelope<PayloadOf<T>> = {
    id: uuidv7(),
    type,
    schemaVersion: SCHEMA_VERSION,
    sagaId: meta.sagaId,
    correlationId: meta.correlationId ?? meta.sagaId,
    causationId: meta.causationId ?? null,
    occurredAt: new Date().toISOString(),
    payload: MESSAGE_SCHEMAS[type].parse(payload) as PayloadOf<T>,
  };
  const traceparent = meta.traceparent ?? activeTraceparent();
  if (traceparent !== undefined) env.traceparent = traceparent;
  return env;
}

/**
 * Addresses an envelope to a topic; the key is the saga id so one saga's messages stay in order.
 *
 * @example
 * await enqueueOutbox(tx, [toTopic(TOPICS.inventoryCommands, env)]);
 */
export function toTopic(topic: string, envelope: Envelope): OutgoingMessage {
  return { topic, key: envelope.sagaId, envelope };
}

/**
 * The reply to a command, addressed to `orchestrator.replies`: same saga and correlation ids,
 * causation id = the command's id, same trace.
 *
 * @example
 * return [reply(m.envelope, 'StockReserved', { orderId })];
 */
export function reply<T extends MessageType>(command: Envelope, type: T, payload: PayloadOf<T>): OutgoingMessage {
  const meta: EnvelopeMeta = { sagaId: command.sagaId, correlationId: command.correlationId, causationId: command.id };
  if (command.traceparent !== undefined) meta.traceparent = command.traceparent;
  return toTopic(TOPICS.orchestratorReplies, newEnvelope(type, payload, meta));
}

/**
 * The envelope's metadata as Kafka headers (strings); a null causation id and an absent
 * traceparent are left out.
 *
 * @example
 * envelopeHeaders(env)['message-id'] === env.id
 */
export function envelopeHeaders(envelope: Envelope): Record<string, string> {
  const h: Record<string, string> = {};
  // Guards keep a partial envelope (a malformed message on its way to the DLQ) encodable.
  if (typeof envelope.id === 'string') h[ENVELOPE_HEADERS.id] = envelope.id;
  if (typeof envelope.type === 'string') h[ENVELOPE_HEADERS.type] = envelope.type;
  if (Number.isFinite(envelope.schemaVersion)) h[ENVELOPE_HEADERS.schemaVersion] = String(envelope.schemaVersion);
  if (typeof envelope.sagaId === 'string') h[ENVELOPE_HEADERS.sagaId] = envelope.sagaId;
  if (typeof envelope.correlationId === 'string') h[ENVELOPE_HEADERS.correlationId] = envelope.correlationId;
  if (typeof envelope.causationId === 'string') h[ENVELOPE_HEADERS.causationId] = envelope.causationId;
  if (typeof envelope.occurredAt === 'string') h[ENVELOPE_HEADERS.occurredAt] = envelope.occurredAt;
  if (typeof envelope.traceparent === 'string') h[ENVELOPE_HEADERS.traceparent] = envelope.traceparent;
  return h;
}

const ENVELOPE_HEADER_NAMES: ReadonlySet<string> = new Set(Object.values(ENVELOPE_HEADERS));

/**
 * True for a header name that carries envelope metadata.
 *
 * @example
 * isEnvelopeHeader('message-id') === true; isEnvelopeHeader('dlq-error') === false
 */
export function isEnvelopeHeader(name: string): boolean {
  return ENVELOPE_HEADER_NAMES.has(name);
}

/**
 * Rebuilds an envelope from headers and a decoded payload WITHOUT validating it (missing headers
 * become undefined): validate with {@link envelopeProblem} before trusting it.
 *
 * @example
 * const env = envelopeFromHeaders((name) => headers.get(name), payload);
 */
export function envelopeFromHeaders(get: (name: string) => string | undefined, payload: unknown): Envelope {
  const version = get(ENVELOPE_HEADERS.schemaVersion);
  const env = {
    id: get(ENVELOPE_HEADERS.id),
    type: get(ENVELOPE_HEADERS.type),
    schemaVersion: version === undefined ? undefined : Number(version),
    sagaId: get(ENVELOPE_HEADERS.sagaId),
    correlationId: get(ENVELOPE_HEADERS.correlationId),
    causationId: get(ENVELOPE_HEADERS.causationId) ?? null,
    occurredAt: get(ENVELOPE_HEADERS.occurredAt),
    payload,
  } as Envelope;
  const traceparent = get(ENVELOPE_HEADERS.traceparent);
  if (traceparent !== undefined) env.traceparent = traceparent;
  return env;
}

/**
 * Why an envelope is malformed, or null when it is valid: "<field>: <problem>; ..." naming the
 * Kafka header where there is one.
 *
 * @example
 * envelopeProblem({ ...env, id: 'x' }) === 'message-id: Invalid UUID'
 */
export function envelopeProblem(envelope: unknown): string | null {
  const result = EnvelopeSchema.safeParse(envelope);
  if (result.success) return null;
  return result.error.issues
    .map((issue) => {
      const field = String(issue.path[0] ?? 'envelope');
      const header = (ENVELOPE_HEADERS as Record<string, string>)[field] ?? field;
      return `${header}: ${issue.message}`;
    })
    .join('; ');
}

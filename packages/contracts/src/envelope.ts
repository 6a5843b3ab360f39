import { z } from 'zod';

/**
 * The message envelope of DESIGN §4. On Kafka the metadata travels as headers
 * (see {@link ENVELOPE_HEADERS}) and the payload as the JSON value; the key is the saga id.
 *
 * @example
 * const env = EnvelopeSchema.parse(raw);
 */
export const EnvelopeSchema = z.object({
  /** UUIDv7, unique per message; the inbox dedupes on it. */
  id: z.uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  sagaId: z.string().min(1),
  correlationId: z.string().min(1),
  /** Id of the message that caused this one (a reply's causation id is its command's id). */
  causationId: z.string().nullable(),
  occurredAt: z.iso.datetime({ offset: true }),
  /** W3C trace context. */
  traceparent: z.string().optional(),
  payload: z.unknown(),
});

export type Envelope<P = unknown> = Omit<z.infer<typeof EnvelopeSchema>, 'payload'> & { payload: P };

/** Kafka header names carrying the envelope's metadata. */
export const ENVELOPE_HEADERS = {
  id: 'message-id',
  type: 'message-type',
  schemaVersion: 'schema-version',
  sagaId: 'saga-id',
  correlationId: 'correlation-id',
  causationId: 'causation-id',
  occurredAt: 'occurred-at',
  traceparent: 'traceparent',
} as const;

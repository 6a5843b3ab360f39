import type { Message } from '@platformatic/kafka';
import { envelopeFromHeaders, envelopeHeaders, isEnvelopeHeader } from '../envelope';
import type { IncomingMessage, OutgoingMessage } from '../ports';

/** A record as the producer (string serializers) takes it. */
export interface KafkaRecordOut {
  topic: string;
  key: string;
  value: string | undefined;
  headers: Record<string, string>;
}

/** Envelope metadata → headers, payload → JSON value, key = saga id. */
export function encodeRecord(m: OutgoingMessage): KafkaRecordOut {
  const headers = envelopeHeaders(m.envelope);
  if (m.headers) Object.assign(headers, m.headers);
  const payload = m.envelope.payload;
  return { topic: m.topic, key: m.key, value: payload === undefined ? undefined : JSON.stringify(payload), headers };
}

/**
 * A consumed record → IncomingMessage. Never throws: a value that is not JSON is kept as text and
 * flagged in `decodeError`; missing headers leave holes in the envelope that validation reports.
 */
export function decodeRecord(r: Message<string, Buffer, string, string>): IncomingMessage {
  const headers = r.headers;
  let payload: unknown;
  let decodeError: string | undefined;
  if (r.value !== undefined && r.value !== null && r.value.length > 0) {
    const text = r.value.toString('utf8');
    try {
      payload = JSON.parse(text);
    } catch (err) {
      payload = text;
      decodeError = `value is not JSON: ${(err as Error).message}`;
    }
  }
  const envelope = envelopeFromHeaders((name) => headers.get(name), payload);
  const m: IncomingMessage = {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset.toString(),
    key: r.key ?? '',
    envelope,
  };
  let extra: Record<string, string> | undefined;
  for (const [name, value] of headers) {
    if (!isEnvelopeHeader(name)) (extra ??= {})[name] = value;
  }
  if (extra) m.headers = extra;
  if (decodeError) m.decodeError = decodeError;
  return m;
}

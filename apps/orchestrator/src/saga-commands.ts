import type { Envelope, MessageType, PayloadOf } from '@saga/contracts';
import { newEnvelope, toTopic, type OutgoingMessage } from '@saga/messaging';
import type { SagaEventOutcome } from '@saga/saga';

/**
 * The messages to publish for a batch's outcomes: each command becomes an envelope whose id is the
 * engine's message id (the reply's causation id will match it), keyed by saga id, addressed to the
 * participant's topic. `causes[i]` is the message that caused outcome i (null for timers and
 * operator actions): correlation id, causation id and trace context follow it.
 */
export function commandMessages(outcomes: readonly SagaEventOutcome[], causes: readonly (Envelope | null)[]): OutgoingMessage[] {
  const out: OutgoingMessage[] = [];
  outcomes.forEach((o, i) => {
    const cause = causes[i] ?? null;
    for (const c of o.commands) {
      // newEnvelope validates the payload against the contract: a saga bug fails loudly here
      const envelope = newEnvelope(c.type as MessageType, c.payload as PayloadOf<MessageType>, {
        sagaId: c.sagaId,
        correlationId: cause?.correlationId ?? c.sagaId,
        causationId: cause?.id ?? null,
        traceparent: cause?.traceparent,
      });
      out.push(toTopic(c.participant, { ...envelope, id: c.messageId }));
    }
  });
  return out;
}

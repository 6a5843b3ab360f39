import { isMessageType, parsePayload, TOPICS, type Envelope } from '@saga/contracts';
import type { IncomingMessage, OutgoingMessage } from '@saga/messaging';
import type { Transaction } from '@saga/postgres';
import type { SagaEngine, SagaEvent, SagaEventOutcome } from '@saga/saga';
import { serviceLabel } from '@saga/telemetry';
import type { Logger } from 'pino';
import { PLACE_ORDER, placeOrderData } from './place-order.saga';
import { RETURN_ORDER, returnOrderData } from './return-order.saga';
import { ParkedEventsRepository } from './postgres/parked-events.repository';
import { commandMessages } from './saga-commands';
import { recordSagaOutcomes } from './saga.metrics';

/** The order.events that start a saga (the other order events are not for us). */
const STARTING_EVENTS: ReadonlySet<string> = new Set(['OrderPaymentRequested', 'OrderReturnRequested']);

/**
 * The orchestrator's Kafka side: `OrderPaymentRequested` on order.events starts a place-order saga,
 * `OrderReturnRequested` a return saga (other order events are not for us), replies on orchestrator.replies advance sagas. A whole batch
 * is applied in one engine call inside the consumer's transaction (inbox + sagas + outbox). A reply
 * for a saga whose definition version is not registered is parked in that same transaction
 * (saga_parked_events), not dropped: the inbox marks it handled because it is kept.
 */
export class SagaMessagesHandler {
  /** What to subscribe to. */
  readonly topics: readonly string[];
  /** The outcomes behind each batch's returned messages, until the batch commits (or is dropped). */
  private readonly uncommitted = new WeakMap<readonly OutgoingMessage[], SagaEventOutcome[]>();
  private readonly service: string;
  private readonly parked = new ParkedEventsRepository();

  constructor(
    private readonly engine: SagaEngine<Transaction>,
    private readonly logger: Logger,
    // tests run on private topics
    private readonly source: { orderEvents: string; replies: string } = {
      orderEvents: TOPICS.orderEvents,
      replies: TOPICS.orchestratorReplies,
    },
  ) {
    this.topics = [source.orderEvents, source.replies];
    this.service = serviceLabel(logger);
  }

  /** Of order.events only the saga-starting events matter; the other events skip the transaction. */
  readonly accepts = (m: IncomingMessage): boolean =>
    m.topic !== this.source.orderEvents || STARTING_EVENTS.has(m.envelope.type);

  readonly handle = async (tx: Transaction, messages: readonly IncomingMessage[]): Promise<readonly OutgoingMessage[]> => {
    const events: SagaEvent[] = [];
    const causes: Envelope[] = [];
    for (const m of messages) {
      const event = this.eventOf(m);
      if (!event) continue;
      events.push(event);
      causes.push(m.envelope);
    }
    const outcomes = await this.engine.apply(tx, events);
    const parked: { event: SagaEvent; reason: string }[] = [];
    for (const o of outcomes) {
      if (o.ignored) this.logger.debug({ sagaId: o.event.sagaId, event: o.event.kind, reason: o.ignored }, 'saga event ignored');
      if (o.parked) parked.push({ event: o.event, reason: o.parked });
    }
    if (parked.length > 0) {
      await this.parked.park(tx, parked);
      this.logger.warn({ sagaIds: parked.map((p) => p.event.sagaId), reason: parked[0].reason }, 'saga events parked: definition version not registered');
    }
    const out = commandMessages(outcomes, causes);
    this.uncommitted.set(out, outcomes);
    return out;
  };

  /** The consumer's after-commit hook: metrics of what the batch durably did. */
  readonly afterCommit = (_handled: readonly IncomingMessage[], published: readonly OutgoingMessage[]): void => {
    const outcomes = this.uncommitted.get(published);
    if (outcomes) recordSagaOutcomes(this.service, outcomes);
  };

  /** Throws a ZodError for a malformed payload of a known type: the consumer dead-letters it. */
  private eventOf(m: IncomingMessage): SagaEvent | null {
    const env = m.envelope;
    if (m.topic === this.source.orderEvents) {
      if (env.type === 'OrderReturnRequested') {
        const payload = parsePayload('OrderReturnRequested', env.payload);
        return { kind: 'start', sagaType: RETURN_ORDER, sagaId: payload.returnId, data: returnOrderData(payload) };
      }
      if (env.type !== 'OrderPaymentRequested') return null;
      const payload = parsePayload('OrderPaymentRequested', env.payload);
      return { kind: 'start', sagaType: PLACE_ORDER, sagaId: payload.orderId, data: placeOrderData(payload) };
    }
    if (m.topic !== this.source.replies) return null;
    if (!isMessageType(env.type)) {
      this.logger.warn({ sagaId: env.sagaId, type: env.type, messageId: env.id }, 'reply of an unknown type skipped');
      return null;
    }
    const payload = parsePayload(env.type, env.payload);
    return {
      kind: 'reply',
      sagaId: env.sagaId,
      reply: { type: env.type, causationId: env.causationId, payload, messageId: env.id },
    };
  }
}

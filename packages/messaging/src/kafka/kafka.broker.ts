import type { Logger } from 'pino';
import type { MessageBroker, MessageProducer, SubscribeOptions } from '../ports';
import { KafkaProducer } from './kafka.producer';
import { KafkaSubscription, type KafkaConsumerTuning } from './kafka.subscription';

export interface KafkaBrokerOptions extends KafkaConsumerTuning {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Prefix of the Kafka client ids (producer and consumers). */
  clientId: string;
  logger: Logger;
}

/**
 * The message bus on Apache Kafka (@platformatic/kafka): one shared idempotent producer (acks=all)
 * and one consumer group member per subscription, with manual offset commits after the handler.
 * Envelope metadata travels in headers, the payload as the JSON value, the key is the saga id.
 *
 * @example
 * const broker = new KafkaBroker({ brokers: ['127.0.0.1:19092'], clientId: 'inventory', logger });
 * const sub = await broker.subscribe({ groupId: 'inventory', topics: [TOPICS.inventoryCommands], handler });
 * await sub.ready;
 */
export class KafkaBroker implements MessageBroker {
  private readonly o: KafkaBrokerOptions;
  private shared: KafkaProducer | null = null;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(o: KafkaBrokerOptions) {
    this.o = o;
  }

  /** The broker's producer (one per broker, shared; closed with the broker). */
  producer(): MessageProducer {
    if (this.closed) throw new Error('broker is closed');
    this.shared ??= new KafkaProducer(this.o);
    return this.shared;
  }

  /** Joins `groupId` for `topics`; the returned subscription's `ready` says when it is assigned. */
  async subscribe(options: SubscribeOptions): Promise<KafkaSubscription> {
    if (this.closed) throw new Error('broker is closed');
    const sub = new KafkaSubscription(this.o, options, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  /** Closes every subscription (gracefully), then the producer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.shared?.close();
  }
}

import { ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { MessageProducer, OutgoingMessage } from '../ports';
import { encodeRecord, type KafkaRecordOut } from './kafka.codec';
import { KAFKA_CLIENT_OPTIONS } from './kafka.tuning';

interface PendingSend {
  records: KafkaRecordOut[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Most records merged into one produce request. */
const MAX_RECORDS_PER_REQUEST = 5_000;

/**
 * Idempotent Kafka producer (acks = all). `send(batch)` goes out as one produce request (one per
 * broker) and resolves once every record is acknowledged. Sends never overlap: calls made while a
 * request is in flight are merged into the next one, which keeps the order of calls and turns
 * many small concurrent sends into one.
 *
 * @example
 * const producer = new KafkaProducer({ brokers: ['127.0.0.1:19092'], clientId: 'order', logger });
 * await producer.send([toTopic(TOPICS.orderEvents, env)]);
 */
export class KafkaProducer implements MessageProducer {
  private readonly producer: Producer<string, string, string, string>;
  private readonly logger: Logger;
  private pending: PendingSend[] = [];
  private inFlight = false;
  private closed = false;

  constructor(o: { brokers: string[]; clientId: string; logger: Logger }) {
    this.logger = o.logger.child({ component: 'kafka-producer' });
    this.producer = new Producer({
      clientId: `${o.clientId}-producer`,
      bootstrapBrokers: o.brokers,
      // Retries outlast a leader election; idempotence keeps a retried batch from landing twice.
      ...KAFKA_CLIENT_OPTIONS,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      serializers: stringSerializers,
    });
  }

  send(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer is closed'));
    if (messages.length === 0) return Promise.resolve();
    const records = new Array<KafkaRecordOut>(messages.length);
    for (let i = 0; i < messages.length; i++) records[i] = encodeRecord(messages[i]);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, resolve, reject });
      if (!this.inFlight) void this.flush();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.inFlight || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await this.producer.close();
  }

  private async flush(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.pending.length > 0) {
        // Take whole calls (never split one) up to the request cap.
        let count = 0;
        let take = 0;
        while (take < this.pending.length && (take === 0 || count + this.pending[take].records.length <= MAX_RECORDS_PER_REQUEST)) {
          count += this.pending[take].records.length;
          take++;
        }
        const group = this.pending.splice(0, take);
        const records = group.length === 1 ? group[0].records : group.flatMap((p) => p.records);
        try {
          await this.producer.send({ messages: records });
          for (const p of group) p.resolve();
        } catch (err) {
          this.logger.debug({ err, records: records.length }, 'produce failed');
          for (const p of group) p.reject(err);
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}

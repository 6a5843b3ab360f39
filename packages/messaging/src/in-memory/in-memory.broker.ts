import { LogBroker, decode, type LogBrokerOptions } from '../log/log.broker';
import { MemoryLogStore } from '../log/memory-log.store';
import type { IncomingMessage } from '../ports';

export type InMemoryBrokerOptions = LogBrokerOptions;

/**
 * The message bus in-process with Kafka's contract (see {@link LogBroker}), its log in memory:
 * nothing survives the process. For unit tests; the embedded mode uses `DatabaseLogBroker`.
 *
 * @example
 * const broker = new InMemoryBroker();
 * await broker.subscribe({ groupId: 'g', topics: ['inventory.commands'], handler: async (batch) => { ... } });
 * await broker.producer().send([toTopic('inventory.commands', env)]);
 */
export class InMemoryBroker extends LogBroker {
  private readonly memory: MemoryLogStore;

  constructor(o: InMemoryBrokerOptions = {}) {
    const store = new MemoryLogStore();
    super(store, o);
    this.memory = store;
  }

  /**
   * Every retained message of a topic in partition then offset order (e.g. to look at a DLQ).
   *
   * @example
   * const dead = broker.messages('inventory.commands.dlq');
   */
  messages(topic: string): IncomingMessage[] {
    return this.memory.retained(topic).map(({ partition, record }) => decode(topic, partition, record));
  }
}

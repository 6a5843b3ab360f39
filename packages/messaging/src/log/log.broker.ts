import { AsyncResource } from 'node:async_hooks';
import { envelopeFromHeaders, envelopeHeaders, isEnvelopeHeader } from '../envelope';
import type { BatchHandler, IncomingMessage, MessageBroker, MessageProducer, OutgoingMessage, SubscribeOptions, Subscription } from '../ports';
import type { LogStore, NewRecord, StoredRecord } from './log.store';

class Cursor {
  running = false;
  scheduled = false;
  /** Settles when the batch in hand is done (for close()). */
  inHand: Promise<void> | null = null;
  inHandBy: Member | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly index: number,
    /** The offset the group reads next. */
    public committed: number,
  ) {}
}

class Member {
  closed = false;

  constructor(
    readonly handler: BatchHandler,
    readonly maxBatchSize: number,
  ) {}
}

class Group {
  readonly members: Member[] = [];
  readonly cursors = new Map<string, Cursor>();
  active = 0;
  readonly waiting: Cursor[] = [];

  constructor(
    readonly id: string,
    readonly concurrency: number,
  ) {}

  /** Partitions are dealt to members round-robin, as a Kafka assignor would. */
  ownerOf(cursor: Cursor): Member | undefined {
    if (this.members.length === 0) return undefined;
    return this.members[cursor.index % this.members.length];
  }
}

export interface LogBrokerOptions {
  /** Partitions of each topic (default 8); `*.dlq` topics get 1. */
  partitions?: number;
  /** First redelivery delay after a handler threw (default 20 ms, doubling up to 1 s). */
  redeliveryDelayMs?: number;
}

/**
 * The message bus in-process, with Kafka's contract, over a {@link LogStore}: topics split into
 * partitions by a hash of the key (per-key order), consumer groups with committed offsets,
 * at-least-once delivery (a batch whose handler throws is delivered again, and a position is
 * committed only after its handler resolved), one batch at a time per partition, consumers woken
 * in-process as soon as an append is stored. `InMemoryBroker` and `DatabaseLogBroker` are this
 * engine on two stores.
 *
 * @example
 * const broker = new LogBroker(new MemoryLogStore());
 * await broker.subscribe({ groupId: 'g', topics: ['inventory.commands'], handler: async (batch) => { ... } });
 * await broker.producer().send([toTopic('inventory.commands', env)]);
 */
export class LogBroker implements MessageBroker {
  private readonly groups = new Map<string, Group>();
  private readonly partitionCount: number;
  private readonly redeliveryDelayMs: number;
  private closed = false;
  /**
   * Deliveries run in the broker's own async context, not in the producer's: a send made inside a
   * database transaction must not hand that transaction's context to the consumers it wakes.
   */
  private readonly defer: (fn: () => void) => void = AsyncResource.bind((fn: () => void) => void setImmediate(fn));

  constructor(
    protected readonly store: LogStore,
    o: LogBrokerOptions = {},
  ) {
    this.partitionCount = o.partitions ?? 8;
    this.redeliveryDelayMs = o.redeliveryDelayMs ?? 20;
  }

  producer(): MessageProducer {
    return {
      send: async (messages) => this.append(messages),
      close: async () => undefined,
    };
  }

  async subscribe(o: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new Error('broker is closed');
    let group = this.groups.get(o.groupId);
    if (!group) {
      group = new Group(o.groupId, o.concurrency ?? 8);
      this.groups.set(o.groupId, group);
    }
    const g = group;
    for (const topic of o.topics) {
      for (let p = 0; p < this.partitionsOf(topic); p++) {
        const key = `${topic}:${p}`;
        if (g.cursors.has(key)) continue;
        const position = await this.store.register(g.id, topic, p);
        if (!g.cursors.has(key)) g.cursors.set(key, new Cursor(topic, p, g.cursors.size, position));
      }
    }
    const member = new Member(o.handler, o.maxBatchSize ?? 500);
    g.members.push(member);
    for (const c of g.cursors.values()) this.schedule(g, c);
    return {
      ready: Promise.resolve(),
      close: async () => {
        if (member.closed) return;
        member.closed = true;
        g.members.splice(g.members.indexOf(member), 1);
        await Promise.all([...g.cursors.values()].filter((c) => c.inHandBy === member).map((c) => c.inHand));
        // The partitions it had go to the remaining members.
        for (const c of g.cursors.values()) this.schedule(g, c);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const inHand: Promise<void>[] = [];
    for (const g of this.groups.values()) {
      for (const m of g.members) m.closed = true;
      g.members.length = 0;
      for (const c of g.cursors.values()) if (c.inHand) inHand.push(c.inHand);
    }
    await Promise.all(inHand);
  }

  /** The partition a key goes to on `topic` (same hash the producer uses). */
  partitionOf(topic: string, key: string): number {
    return hashKey(key) % this.partitionsOf(topic);
  }

  protected partitionsOf(topic: string): number {
    return topic.endsWith('.dlq') ? 1 : this.partitionCount;
  }

  private async append(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('broker is closed');
    const records: NewRecord[] = messages.map((m) => {
      const headers = envelopeHeaders(m.envelope);
      if (m.headers) Object.assign(headers, m.headers);
      const payload = m.envelope.payload;
      return { topic: m.topic, partition: this.partitionOf(m.topic, m.key), key: m.key, headers, value: payload === undefined ? undefined : JSON.stringify(payload) };
    });
    await this.store.append(records);
    const touched = new Set(records.map((r) => `${r.topic}:${r.partition}`));
    for (const g of this.groups.values()) {
      for (const key of touched) {
        const c = g.cursors.get(key);
        if (c) this.schedule(g, c);
      }
    }
  }

  private schedule(group: Group, c: Cursor): void {
    if (c.running || c.scheduled || this.closed) return;
    if (c.committed >= this.store.end(c.topic, c.partition)) return;
    c.scheduled = true;
    // Deferred so the producer's caller goes on and records sent together arrive as one batch.
    this.defer(() => {
      c.scheduled = false;
      if (group.active < group.concurrency) this.run(group, c);
      else if (!group.waiting.includes(c)) group.waiting.push(c);
    });
  }

  private run(group: Group, c: Cursor): void {
    if (c.running) return;
    c.running = true;
    group.active++;
    void this.drain(group, c)
      .catch(() => undefined) // handler and store errors end in a pause inside drain
      .finally(() => {
        c.running = false;
        group.active--;
        const next = group.waiting.shift();
        if (next) this.run(group, next);
        this.schedule(group, c);
      });
  }

  private async drain(group: Group, c: Cursor): Promise<void> {
    let failures = 0;
    while (!this.closed && c.committed < this.store.end(c.topic, c.partition)) {
      const member = group.ownerOf(c);
      if (!member) return;
      let ok = false;
      try {
        const records = await this.store.read(c.topic, c.partition, c.committed, member.maxBatchSize);
        if (records.length === 0) {
          // Nothing retained below the end (cannot happen with a store that trims only what every group passed).
          c.committed = this.store.end(c.topic, c.partition);
          return;
        }
        const batch = records.map((r) => decode(c.topic, c.partition, r));
        const next = records[records.length - 1].offset + 1;
        c.inHandBy = member;
        c.inHand = member.handler(batch).then(
          () => {
            ok = true;
          },
          () => undefined,
        );
        await c.inHand;
        c.inHand = null;
        c.inHandBy = null;
        // At-least-once: the position moves only once the handler resolved and the store kept it.
        if (ok) {
          await this.store.commit(group.id, c.topic, c.partition, next);
          c.committed = next;
        }
      } catch {
        ok = false;
      } finally {
        c.inHand = null;
        c.inHandBy = null;
      }
      if (ok) failures = 0;
      else {
        // The same records again, after a growing pause.
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(1_000, this.redeliveryDelayMs * 2 ** Math.min(failures - 1, 10))));
      }
    }
  }
}

/** A stored record as a consumer receives it: fresh objects, extra headers apart from the envelope's. */
export function decode(topic: string, partition: number, r: StoredRecord): IncomingMessage {
  const h = r.headers;
  const envelope = envelopeFromHeaders((name) => h[name], r.value === undefined ? undefined : JSON.parse(r.value));
  const m: IncomingMessage = { topic, partition, offset: String(r.offset), key: r.key, envelope };
  let extra: Record<string, string> | undefined;
  for (const name in h) if (!isEnvelopeHeader(name)) (extra ??= {})[name] = h[name];
  if (extra) m.headers = extra;
  return m;
}

/** FNV-1a over the key's UTF-16 code units: stable, cheap, well spread. */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

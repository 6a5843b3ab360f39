import { envelopeFromHeaders, envelopeHeaders, isEnvelopeHeader } from '../envelope';
import type {
  BatchHandler,
  IncomingMessage,
  MessageBroker,
  MessageProducer,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from '../ports';

/** A record as stored: serialized like on Kafka, so consumers get fresh objects each delivery. */
interface StoredRecord {
  key: string;
  headers: Record<string, string>;
  value: string | undefined;
}

class MemPartition {
  /** Offset of log[0]; records before it were trimmed once every group had committed them. */
  base = 0;
  log: StoredRecord[] = [];

  get end(): number {
    return this.base + this.log.length;
  }
}

class MemTopic {
  readonly partitions: MemPartition[];

  constructor(
    readonly name: string,
    count: number,
  ) {
    this.partitions = Array.from({ length: count }, () => new MemPartition());
  }
}

class Cursor {
  committed: number;
  running = false;
  scheduled = false;
  /** Settles when the batch in hand is done (for close()). */
  inHand: Promise<void> | null = null;
  inHandBy: MemMember | null = null;

  constructor(
    readonly topic: MemTopic,
    readonly partition: number,
    readonly index: number,
  ) {
    this.committed = topic.partitions[partition].base;
  }
}

class MemMember {
  closed = false;

  constructor(
    readonly handler: BatchHandler,
    readonly maxBatchSize: number,
  ) {}
}

class MemGroup {
  readonly members: MemMember[] = [];
  readonly cursors = new Map<string, Cursor>();
  readonly topics = new Set<string>();
  active = 0;
  readonly waiting: Cursor[] = [];

  constructor(
    readonly id: string,
    readonly concurrency: number,
  ) {}

  /** Partitions are dealt to members round-robin, as a Kafka assignor would. */
  ownerOf(cursor: Cursor): MemMember | undefined {
    if (this.members.length === 0) return undefined;
    return this.members[cursor.index % this.members.length];
  }
}

export interface InMemoryBrokerOptions {
  /** Partitions of each topic (default 8); `*.dlq` topics get 1. */
  partitions?: number;
  /** First redelivery delay after a handler threw (default 20 ms, doubling up to 1 s). */
  redeliveryDelayMs?: number;
}

/**
 * The message bus in-process, with Kafka's contract: topics split into partitions by a hash of the
 * key (per-key order), consumer groups with committed offsets, at-least-once delivery (a batch whose
 * handler throws is delivered again), one batch at a time per partition. For unit tests and the
 * embedded mode. Nothing survives the process.
 *
 * @example
 * const broker = new InMemoryBroker();
 * await broker.subscribe({ groupId: 'g', topics: ['inventory.commands'], handler: async (batch) => { ... } });
 * await broker.producer().send([toTopic('inventory.commands', env)]);
 */
export class InMemoryBroker implements MessageBroker {
  private readonly topics = new Map<string, MemTopic>();
  private readonly groups = new Map<string, MemGroup>();
  private readonly partitionCount: number;
  private readonly redeliveryDelayMs: number;
  private closed = false;

  constructor(o: InMemoryBrokerOptions = {}) {
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
      group = new MemGroup(o.groupId, o.concurrency ?? 8);
      this.groups.set(o.groupId, group);
    }
    const member = new MemMember(o.handler, o.maxBatchSize ?? 500);
    group.members.push(member);
    for (const name of o.topics) {
      group.topics.add(name);
      const topic = this.topic(name);
      for (let p = 0; p < topic.partitions.length; p++) this.cursor(group, topic, p);
    }
    for (const c of group.cursors.values()) this.schedule(group, c);
    const g = group;
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

  /**
   * Every retained message of a topic in partition then offset order (e.g. to look at a DLQ).
   *
   * @example
   * const dead = broker.messages('inventory.commands.dlq');
   */
  messages(topic: string): IncomingMessage[] {
    const t = this.topics.get(topic);
    if (!t) return [];
    const out: IncomingMessage[] = [];
    t.partitions.forEach((p, i) => p.log.forEach((r, j) => out.push(decode(t.name, i, p.base + j, r))));
    return out;
  }

  /** The partition a key goes to on `topic` (same hash the producer uses). */
  partitionOf(topic: string, key: string): number {
    return hashKey(key) % this.topic(topic).partitions.length;
  }

  private append(messages: readonly OutgoingMessage[]): void {
    if (this.closed) throw new Error('broker is closed');
    const touched = new Set<string>();
    for (const m of messages) {
      const topic = this.topic(m.topic);
      const p = hashKey(m.key) % topic.partitions.length;
      const headers = envelopeHeaders(m.envelope);
      if (m.headers) Object.assign(headers, m.headers);
      const payload = m.envelope.payload;
      topic.partitions[p].log.push({ key: m.key, headers, value: payload === undefined ? undefined : JSON.stringify(payload) });
      touched.add(`${m.topic}:${p}`);
    }
    for (const g of this.groups.values()) {
      for (const key of touched) {
        const c = g.cursors.get(key);
        if (c) this.schedule(g, c);
      }
    }
  }

  private topic(name: string): MemTopic {
    let t = this.topics.get(name);
    if (!t) {
      t = new MemTopic(name, name.endsWith('.dlq') ? 1 : this.partitionCount);
      this.topics.set(name, t);
      for (const g of this.groups.values()) {
        if (g.topics.has(name)) for (let p = 0; p < t.partitions.length; p++) this.cursor(g, t, p);
      }
    }
    return t;
  }

  private cursor(group: MemGroup, topic: MemTopic, p: number): Cursor {
    const key = `${topic.name}:${p}`;
    let c = group.cursors.get(key);
    if (!c) {
      c = new Cursor(topic, p, group.cursors.size);
      group.cursors.set(key, c);
    }
    return c;
  }

  private schedule(group: MemGroup, c: Cursor): void {
    if (c.running || c.scheduled || this.closed) return;
    if (c.committed >= c.topic.partitions[c.partition].end) return;
    c.scheduled = true;
    // Deferred so the producer's caller goes on and records sent together arrive as one batch.
    setImmediate(() => {
      c.scheduled = false;
      if (group.active < group.concurrency) this.run(group, c);
      else if (!group.waiting.includes(c)) group.waiting.push(c);
    });
  }

  private run(group: MemGroup, c: Cursor): void {
    if (c.running) return;
    c.running = true;
    group.active++;
    void this.drain(group, c)
      .catch(() => undefined) // handler errors are caught in drain; nothing else throws
      .finally(() => {
        c.running = false;
        group.active--;
        const next = group.waiting.shift();
        if (next) this.run(group, next);
        this.schedule(group, c);
      });
  }

  private async drain(group: MemGroup, c: Cursor): Promise<void> {
    const part = c.topic.partitions[c.partition];
    let failures = 0;
    while (!this.closed && c.committed < part.end) {
      const member = group.ownerOf(c);
      if (!member) return;
      const from = c.committed;
      const to = Math.min(part.end, from + member.maxBatchSize);
      const batch: IncomingMessage[] = [];
      for (let off = from; off < to; off++) batch.push(decode(c.topic.name, c.partition, off, part.log[off - part.base]));
      let ok = false;
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
      if (ok) {
        failures = 0;
        c.committed = to;
        this.trim(c.topic, c.partition);
      } else {
        // At-least-once: the same records again, after a growing pause.
        failures++;
        await new Promise((r) => setTimeout(r, Math.min(1_000, this.redeliveryDelayMs * 2 ** Math.min(failures - 1, 10))));
      }
    }
  }

  /** Drops records every group subscribed to the topic has committed. */
  private trim(topic: MemTopic, p: number): void {
    const part = topic.partitions[p];
    let min = part.end;
    let any = false;
    for (const g of this.groups.values()) {
      const c = g.cursors.get(`${topic.name}:${p}`);
      if (!c) continue;
      any = true;
      if (c.committed < min) min = c.committed;
    }
    const drop = min - part.base;
    // Trim in chunks: shifting a large array on every batch would be quadratic.
    if (any && drop > 0 && (drop >= 1024 || drop === part.log.length)) {
      part.log = drop === part.log.length ? [] : part.log.slice(drop);
      part.base = min;
    }
  }
}

function decode(topic: string, partition: number, offset: number, r: StoredRecord): IncomingMessage {
  const h = r.headers;
  const envelope = envelopeFromHeaders((name) => h[name], r.value === undefined ? undefined : JSON.parse(r.value));
  const m: IncomingMessage = { topic, partition, offset: String(offset), key: r.key, envelope };
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

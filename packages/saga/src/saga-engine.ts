import type { SagaDefinition } from './saga-definition';
import type { OutgoingCommand, SagaInstance, SagaReply, TransitionResult } from './saga-instance';
import { cancel, onReply, onTimeout, retryCompensation, retryStep, start, type TransitionContext } from './saga-transitions';
import type { Clock } from './ports/clock';
import type { IdGenerator } from './ports/id-generator';
import type { SagaHistoryRecord, SagaStore, SagaUpdate } from './ports/saga-store';

/** Something that happens to a saga; the runner turns each into one transition. */
export type SagaEvent =
  | { readonly kind: 'start'; readonly sagaType: string; readonly sagaId: string; readonly data: unknown }
  | { readonly kind: 'reply'; readonly sagaId: string; readonly reply: SagaReply }
  | { readonly kind: 'timeout'; readonly sagaId: string }
  | { readonly kind: 'retryCompensation'; readonly sagaId: string }
  | { readonly kind: 'retryStep'; readonly sagaId: string }
  | { readonly kind: 'cancel'; readonly sagaId: string; readonly reason?: string };

/** What one event did. `instance` is null only for an event about an unknown saga (then `ignored` says so). */
export interface SagaEventOutcome {
  readonly event: SagaEvent;
  readonly instance: SagaInstance | null;
  /** The saga as it was before this event (null for a start, or an unknown saga). */
  readonly previous: SagaInstance | null;
  readonly commands: readonly OutgoingCommand[];
  readonly ignored?: string;
}

export interface SagaEngineOptions<Tx> {
  store: SagaStore<Tx>;
  definitions: readonly SagaDefinition<any>[];
  clock: Clock;
  ids: IdGenerator;
}

/**
 * Applies events to sagas in batches through a {@link SagaStore}, inside the caller's unit of work:
 * one load for the whole batch, the pure transitions in event order (several events of one saga
 * see each other's result), then one insert, one update and one history append. The caller
 * publishes the returned commands in the same unit of work (outbox).
 *
 * @example
 * const engine = new SagaEngine({ store, definitions: [placeOrder], clock: SYSTEM_CLOCK, ids: { newId: v7 } });
 * await db.transaction(async (tx) => {
 *   const outcomes = await engine.apply(tx, [{ kind: 'reply', sagaId, reply }]);
 *   await enqueueOutbox(tx, outcomes.flatMap((o) => o.commands.map(toMessage)));
 * });
 */
export class SagaEngine<Tx> {
  private readonly definitions: ReadonlyMap<string, SagaDefinition<any>>;

  constructor(private readonly o: SagaEngineOptions<Tx>) {
    this.definitions = new Map(o.definitions.map((d) => [d.type, d]));
  }

  /** The definition of a saga type; throws for an unknown one. */
  definition(type: string): SagaDefinition<any> {
    const def = this.definitions.get(type);
    if (!def) throw new Error(`no saga definition for type ${type}`);
    return def;
  }

  async apply(tx: Tx, events: readonly SagaEvent[]): Promise<SagaEventOutcome[]> {
    if (events.length === 0) return [];
    const ids = [...new Set(events.map((e) => e.sagaId))];
    const loaded = await this.o.store.loadForUpdate(tx, ids);
    return this.applyTo(tx, loaded, events);
  }

  /** Claims up to `limit` sagas whose timer is due and fires their timers (see {@link onTimeout}). */
  async fireDueTimers(tx: Tx, limit = 100): Promise<SagaEventOutcome[]> {
    const due = await this.o.store.claimDue(tx, this.o.clock.now(), limit);
    return this.applyTo(tx, due, due.map((i) => ({ kind: 'timeout', sagaId: i.id }) as const));
  }

  private async applyTo(tx: Tx, loaded: readonly SagaInstance[], events: readonly SagaEvent[]): Promise<SagaEventOutcome[]> {
    const ctx: TransitionContext = { now: this.o.clock.now(), ids: this.o.ids };
    const loadedVersion = new Map(loaded.map((i) => [i.id, i.version]));
    const current = new Map(loaded.map((i) => [i.id, i]));
    const history: SagaHistoryRecord[] = [];
    const outcomes: SagaEventOutcome[] = [];

    for (const event of events) {
      const instance = current.get(event.sagaId) ?? null;
      const r = this.transition(event, instance, ctx);
      if (r === null) {
        outcomes.push({ event, instance: null, previous: null, commands: [], ignored: `unknown saga ${event.sagaId}` });
        continue;
      }
      if (!r.ignored) {
        current.set(event.sagaId, r.instance);
        for (const h of r.history) history.push({ sagaId: event.sagaId, ...h });
      }
      outcomes.push({ event, instance: r.instance, previous: instance, commands: r.commands, ignored: r.ignored });
    }

    const inserts: SagaInstance[] = [];
    const updates: SagaUpdate[] = [];
    for (const [id, instance] of current) {
      const expectedVersion = loadedVersion.get(id);
      if (expectedVersion === undefined) inserts.push(instance);
      else if (instance.version !== expectedVersion) updates.push({ instance, expectedVersion });
    }
    if (inserts.length > 0) await this.o.store.insert(tx, inserts);
    if (updates.length > 0) await this.o.store.update(tx, updates);
    if (history.length > 0) await this.o.store.appendHistory(tx, history);
    return outcomes;
  }

  /** null = the event is about a saga that does not exist. */
  private transition(event: SagaEvent, instance: SagaInstance | null, ctx: TransitionContext): TransitionResult | null {
    if (event.kind === 'start') {
      if (instance) return { instance, commands: [], history: [], ignored: `saga ${event.sagaId} already exists` };
      return start(this.definition(event.sagaType), { sagaId: event.sagaId, data: event.data, ...ctx });
    }
    if (!instance) return null;
    const def = this.definition(instance.type);
    switch (event.kind) {
      case 'reply':
        return onReply(def, instance, event.reply, ctx);
      case 'timeout':
        return onTimeout(def, instance, ctx);
      case 'retryCompensation':
        return retryCompensation(def, instance, ctx);
      case 'retryStep':
        return retryStep(def, instance, ctx);
      case 'cancel':
        return cancel(def, instance, ctx, event.reason);
    }
  }
}

/**
 * The kind of a saga step, after Garcia-Molina & Salem's sagas as Richardson names them: a saga is
 * compensable steps, at most one pivot, then retriable steps, in that order.
 *
 * - `compensable`: can be undone; its compensation runs when a later step (the pivot included) fails.
 * - `pivot`: the go/no-go step. When it fails the compensable steps are undone; once it succeeds the
 *   saga only goes forward and nothing is undone any more.
 * - `retriable`: follows the pivot; re-sent until it succeeds, so it never fails and is never undone.
 *
 * @example
 * const kind: StepKind = 'pivot';
 */
export type StepKind = 'compensable' | 'pivot' | 'retriable';

export const STEP_KINDS: readonly StepKind[] = ['compensable', 'pivot', 'retriable'];

/** What the order check needs of a step: `where` names it in messages ("step reserveStock"). */
export interface KindedStep {
  readonly name: string;
  readonly where: string;
  readonly kind: StepKind;
}

/**
 * Problems with the order of the steps' kinds, one message per offending step, each naming it:
 * a second pivot, a compensable step after the pivot, a retriable step before it, and retriable
 * steps mixed with compensable ones in a saga that has no pivot to separate them.
 *
 * @example
 * kindOrderProblems([{ name: 'pay', where: 'step pay', kind: 'pivot' }, { name: 'reserve', where: 'step reserve', kind: 'compensable' }])
 * // ['step reserve: a compensable step cannot follow the pivot pay (only retriable steps may)']
 */
export function kindOrderProblems(steps: readonly KindedStep[]): string[] {
  const problems: string[] = [];
  const pivotAt = steps.findIndex((s) => s.kind === 'pivot');
  const pivot = steps[pivotAt];
  steps.forEach((s, i) => {
    if (s.kind === 'pivot' && i > pivotAt) {
      problems.push(`${s.where}: a saga has at most one pivot, and ${pivot.name} is already it`);
    } else if (pivot && s.kind === 'compensable' && i > pivotAt) {
      problems.push(`${s.where}: a compensable step cannot follow the pivot ${pivot.name} (only retriable steps may)`);
    } else if (pivot && s.kind === 'retriable' && i < pivotAt) {
      problems.push(`${s.where}: a retriable step cannot come before the pivot ${pivot.name} (it could not be undone if the pivot failed)`);
    } else if (!pivot && s.kind === 'retriable' && steps.some((o) => o.kind === 'compensable')) {
      problems.push(`${s.where}: a retriable step follows a pivot, and this saga with compensable steps has none`);
    }
  });
  return problems;
}

/** Spec options besides `invoke`, `onReply`, `timeoutMs` and `retry`, by kind. */
const KIND_OPTIONS: Readonly<Record<StepKind, readonly string[]>> = {
  compensable: ['compensate', 'compensateOnTimeout', 'doneAtStart'],
  pivot: ['onUnknownOutcome'],
  retriable: [],
};
const COMMON_OPTIONS: readonly string[] = ['invoke', 'onReply', 'timeoutMs', 'retry'];
const UNDO_OPTIONS: readonly string[] = ['compensate', 'compensateOnTimeout', 'onUnknownOutcome'];

/**
 * Options a step's spec sets that its kind does not have (the builder's types forbid them; this
 * catches specs built apart from the call, or from JavaScript). A pivot with `compensate` and a
 * retriable step with any way of being undone get a message that says why.
 *
 * @example
 * kindOptionProblems('step pay', 'pivot', { invoke, onReply, compensate })
 * // ['step pay: a pivot has no compensation: once it succeeds the saga only goes forward (...)']
 */
export function kindOptionProblems(where: string, kind: StepKind, spec: object): string[] {
  const set = Object.entries(spec)
    .filter(([, value]) => value !== undefined)
    .map(([key]) => key);
  const foreign = set.filter((key) => !COMMON_OPTIONS.includes(key) && !KIND_OPTIONS[kind].includes(key));
  return foreign.map((key) => {
    if (kind === 'pivot' && key === 'compensate') {
      return `${where}: a pivot has no compensation: once it succeeds the saga only goes forward (onUnknownOutcome may undo it when its outcome is unknown)`;
    }
    if (kind === 'retriable' && UNDO_OPTIONS.includes(key)) return `${where}: a retriable step is never undone, so it has no ${key}`;
    return `${where}: a ${kind} step has no option ${key}`;
  });
}

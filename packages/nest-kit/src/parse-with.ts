import { AppError, ErrorCode } from '@saga/contracts';
import { z } from 'zod';

type RawIssue = z.core.$ZodRawIssue;

const ARTICLE: Record<string, string> = {
  array: 'an array',
  object: 'an object',
  int: 'an integer',
  integer: 'an integer',
  undefined: 'absent',
};

/**
 * Plain-English problem for zod's built-in issues, as a per-parse error map (schema-level custom
 * messages still win).
 *
 * @example
 * schema.safeParse(value, { error: describeZodIssue }); // "must be positive", "is required", ...
 */
export function describeZodIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      if (Number.isNaN(issue.input)) return 'must be a number';
      if (issue.expected === 'number' && typeof issue.input === 'number') return 'must be a finite number';
      return `must be ${ARTICLE[issue.expected] ?? `a ${issue.expected}`}`;
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'number' || issue.origin === 'bigint') {
        if (min === 0 && !issue.inclusive) return 'must be positive';
        return issue.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
      }
      if (min === 1 && issue.inclusive !== false) return 'must not be empty';
      const unit = issue.origin === 'string' ? 'characters' : 'items';
      return `must have at least ${min} ${unit}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'number' || issue.origin === 'bigint') {
        return issue.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
      }
      const unit = issue.origin === 'string' ? 'characters' : 'items';
      return `must have at most ${max} ${unit}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' ? 'has an invalid format' : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'is not an accepted field';
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'does not match any accepted shape';
    default:
      return undefined;
  }
}

function fieldOf(path: readonly PropertyKey[], root: string): string {
  return path.length === 0 ? root : path.map((p) => String(p)).join('.');
}

/**
 * Parses `value` with a zod schema, the one way to validate input everywhere. On failure throws
 * AppError(VALIDATION_FAILED) whose message names the first bad field, e.g.
 * `orderItems.0.quantity: must be positive`, with `details.field` (and every problem in `details.problems`).
 * `root` names the whole value when the problem is not inside a field (default `body`).
 *
 * @example
 * const input = parseWith(z.object({ amount: MoneySchema.positive() }), req.body);
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, root = 'body'): z.infer<S> {
  const result = schema.safeParse(value, { error: describeZodIssue });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    // For unknown keys zod reports the object; name the offending key instead.
    const path =
      issue.code === 'unrecognized_keys' && issue.keys.length > 0 ? [...issue.path, issue.keys[0]] : issue.path;
    return { field: fieldOf(path, root), problem: issue.message };
  });
  const first = problems[0];
  throw new AppError(ErrorCode.ValidationFailed, `${first.field}: ${first.problem}`, {
    field: first.field,
    ...(problems.length > 1 ? { problems } : {}),
  });
}

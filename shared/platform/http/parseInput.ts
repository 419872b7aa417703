import { z } from 'zod';
import { ValidationError, type FieldError } from '../../kernel/errors';

/**
 * Parsing of bodies and query strings into the use cases' types, shared by every feature's http/:
 * each failure names its field, and unknown fields are refused so that a misspelt one is never
 * silently dropped.
 */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError([{ field: '', message: 'the body must be a JSON object' }]);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new ValidationError(result.error.issues.flatMap(bodyFieldErrors));
}

function bodyFieldErrors(issue: z.core.$ZodIssue): FieldError[] {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ field: at ? `${at}.${key}` : key, message: 'is not a known field' }));
  }
  return [{ field: at, message: issue.message }];
}

/** Parses a query string (without the host's `code` key parameter). */
export function parseQuery<T extends z.ZodType>(schema: T, params: URLSearchParams, message = 'The query is not valid.'): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [name, value] of params) if (name !== 'code') raw[name] = value;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.flatMap(queryFieldErrors), message);
  return parsed.data;
}

function queryFieldErrors(issue: z.core.$ZodIssue): FieldError[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: key, message: 'is not a known parameter' }));
  return [{ field: issue.path.map(String).join('.'), message: issue.message }];
}

/** A whole-number query parameter within [min, max]. */
export const intParam = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be ≥ ${min}` })
        .max(max, { error: `must be ≤ ${max}` }),
    );

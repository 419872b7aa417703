import type { HttpResponseInit } from '@azure/functions';
import { z } from 'zod';
import type { FieldError } from '../../kernel/errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const fieldErrorSchema = z.strictObject({
  field: z.string().meta({
    description:
      'Where the problem is: a body field as a dotted path (ageRange.min), a query parameter or a header; empty for the body as a whole',
  }),
  message: z.string(),
});

/** An RFC 9457 problem document, with the field errors of a rejected input. */
export const problemSchema = z
  .strictObject({
    type: z
      .url()
      .meta({ description: 'A stable URI per kind of problem, e.g. …/problems/validation, …/problems/concurrent-change, …/problems/404' }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().meta({ description: 'What went wrong with this request, for people' }),
    // Readonly: the errors are the domain's own (readonly) list, passed through as they are.
    errors: z
      .array(fieldErrorSchema)
      .readonly()
      .optional()
      .meta({ description: 'Each field that is not valid, when the input was refused' }),
  })
  .meta({ description: 'An RFC 9457 problem document' });
export type Problem = z.output<typeof problemSchema>;

const TITLES: Record<number, string> = {
  400: 'The request is not valid',
  401: 'Sign-in or a key is required',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'The current state does not allow this',
  412: 'The resource has changed',
  413: 'The request body is too large',
  415: 'Unsupported media type',
  422: 'Idempotency-Key reused',
  428: 'A precondition is required',
  500: 'Something went wrong on our side',
  503: 'Unavailable just now',
};

/** An HTTP answer with a problem document. `type` is a stable, documented slug per kind of problem. */
export function problemResponse(
  status: number,
  detail: string,
  options: { errors?: readonly FieldError[]; type?: string; headers?: Record<string, string> } = {},
): HttpResponseInit {
  const problem: Problem = {
    type: `https://visitplannr.example/problems/${options.type ?? String(status)}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(options.errors && { errors: options.errors }),
  };
  return { status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...options.headers }, body: JSON.stringify(problem) };
}

/** A problem found while reading the request: thrown by parsing helpers, answered by the error mapper. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly errors?: readonly FieldError[],
    readonly type?: string,
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

import { z } from 'zod';
import { actorSchema, isPersonId } from '../../kernel/caller';
import { intParam, parseBody, parseQuery } from '../../platform/http/parseInput';
import { HttpProblem } from '../../platform/http/problem';
import { EDITOR_STATUSES, type EditorStatus } from '../domain/editor';

/**
 * The editors' HTTP requests and answers: bodies and query strings parsed into the use cases' types,
 * and the answers' schemas (the API's documentation, platform/composition/openApi.ts).
 */

const REASON_MAX = 500;
const optionalReason = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'must not be empty (leave it out instead)' })
  .max(REASON_MAX, { error: `must be at most ${REASON_MAX} characters` })
  .optional();

/** The body of `POST /api/editor-access` and `POST /api/editors/{userId}/suspend` (may be empty). */
export const optionalReasonSchema = z.strictObject({ reason: optionalReason });

export function parseOptionalReason(body: unknown): string | undefined {
  return parseBody(optionalReasonSchema, body).reason;
}

export const editorStatusSchema = z.enum(EDITOR_STATUSES, { error: `must be one of ${EDITOR_STATUSES.join(', ')}` }).meta({
  description: 'pending → approved; approved ⇄ suspended (an admin may approve a suspended editor again)',
});

/** The query of `GET /api/manage/editors`. */
export const editorListQuerySchema = z.strictObject({
  status: editorStatusSchema.optional().meta({ description: 'List editors in this status (default pending)' }),
  limit: intParam(1, 100).optional().meta({ description: 'At most this many (default 50)' }),
});

export function parseEditorListQuery(params: URLSearchParams): { status: EditorStatus; limit: number } {
  const query = parseQuery(editorListQuerySchema, params);
  return { status: query.status ?? 'pending', limit: query.limit ?? 50 };
}

/** The `{userId}` route parameter: anything that cannot be a user id names nobody. */
export function userIdParam(params: Record<string, string>): string {
  const userId = params.userId ?? '';
  if (!isPersonId(userId)) throw new HttpProblem(404, `There is no editor ${JSON.stringify(userId.slice(0, 64))}.`);
  return userId;
}

const timestamp = z.iso.datetime({ offset: true });

export const editorAccessAnswerSchema = z.strictObject({ userId: z.string(), status: editorStatusSchema });

export const editorListAnswerSchema = z.strictObject({
  status: editorStatusSchema,
  editors: z.array(
    z.strictObject({
      userId: z.string(),
      name: z.string(),
      status: editorStatusSchema,
      reason: z.string().optional().meta({ description: 'What they wrote when asking for access' }),
      requestedAt: timestamp,
      decidedAt: timestamp.optional(),
      decidedBy: actorSchema.optional(),
      suspendedReason: z.string().optional(),
    }),
  ),
});
export type EditorListAnswer = z.output<typeof editorListAnswerSchema>;

export const meAnswerSchema = z.strictObject({
  userId: z.string().meta({ description: 'The Entra object id (locally, the id typed at sign-in)' }),
  name: z.string(),
  roles: z.array(z.string()),
  isAdmin: z.boolean(),
  editorStatus: z.enum(['none', ...EDITOR_STATUSES]).meta({ description: 'none until they ask for editor access' }),
});
export type MeAnswer = z.output<typeof meAnswerSchema>;

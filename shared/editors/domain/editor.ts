import { z } from 'zod';
import type { Decider } from '../../kernel/decider';
import { storedActorSchema, type Actor } from '../../kernel/caller';
import { IllegalStateError, NotFoundError, PoisonEventError } from '../../kernel/errors';
import type { Event } from '../../kernel/event';

/**
 * A person's access as an editor, one stream per person (`editor-<userId>`): they ask, an admin
 * approves, an admin may suspend (and approve again). Who decided is on each event's metadata.
 */
export type EditorAccessRequested = Event<'EditorAccessRequested', { userId: string; name: string; reason?: string; requestedAt: string }>;
export type EditorApproved = Event<'EditorApproved', { userId: string; approvedBy: Actor; approvedAt: string }>;
export type EditorSuspended = Event<'EditorSuspended', { userId: string; suspendedBy: Actor; reason?: string; suspendedAt: string }>;
export type EditorEvent = EditorAccessRequested | EditorApproved | EditorSuspended;

export const EDITOR_EVENT_TYPES = [
  'EditorAccessRequested',
  'EditorApproved',
  'EditorSuspended',
] as const satisfies readonly EditorEvent['type'][];

export function isEditorEvent(event: Event): event is EditorEvent {
  return (EDITOR_EVENT_TYPES as readonly string[]).includes(event.type);
}

export const EDITOR_STREAM_PREFIX = 'editor-';
export const toEditorStreamId = (userId: string): string => `${EDITOR_STREAM_PREFIX}${userId}`;

export const EDITOR_STATUSES = ['pending', 'approved', 'suspended'] as const;
export type EditorStatus = (typeof EDITOR_STATUSES)[number];

export type EditorState =
  { readonly status: 'none' } | { readonly status: EditorStatus; readonly userId: string; readonly name: string; readonly reason?: string };

export type EditorCommand =
  | { type: 'RequestEditorAccess'; data: { userId: string; name: string; reason?: string; now: string } }
  | { type: 'ApproveEditor'; data: { userId: string; by: Actor; now: string } }
  | { type: 'SuspendEditor'; data: { userId: string; by: Actor; reason?: string; now: string } };

/** A command whose effect already holds yields nothing, so a repeated click or a retried request is harmless. */
export function decideEditor(command: EditorCommand, state: EditorState): EditorEvent[] {
  switch (command.type) {
    case 'RequestEditorAccess': {
      const { userId, name, reason, now } = command.data;
      if (state.status === 'suspended') {
        throw new IllegalStateError('Your editor access is suspended: an administrator can restore it.', state.status);
      }
      if (state.status !== 'none') return [];
      return [{ type: 'EditorAccessRequested', data: { userId, name, ...(reason !== undefined && { reason }), requestedAt: now } }];
    }
    case 'ApproveEditor': {
      const { userId, by, now } = command.data;
      if (state.status === 'none') throw new NotFoundError(`${userId} has not asked for editor access.`);
      if (state.status === 'approved') return [];
      return [{ type: 'EditorApproved', data: { userId, approvedBy: by, approvedAt: now } }];
    }
    case 'SuspendEditor': {
      const { userId, by, reason, now } = command.data;
      if (state.status === 'none') throw new NotFoundError(`${userId} has not asked for editor access.`);
      if (state.status === 'suspended') return [];
      return [{ type: 'EditorSuspended', data: { userId, suspendedBy: by, ...(reason !== undefined && { reason }), suspendedAt: now } }];
    }
  }
}

export function evolveEditor(state: EditorState, event: EditorEvent): EditorState {
  switch (event.type) {
    case 'EditorAccessRequested': {
      const { userId, name, reason } = event.data;
      return state.status === 'none' ? { status: 'pending', userId, name, ...(reason !== undefined && { reason }) } : state;
    }
    case 'EditorApproved':
      return state.status === 'none' ? state : { ...state, status: 'approved' };
    case 'EditorSuspended':
      return state.status === 'none' ? state : { ...state, status: 'suspended' };
  }
}

export const editorDecider: Decider<EditorCommand, EditorState, EditorEvent> = {
  decide: decideEditor,
  evolve: evolveEditor,
  initialState: () => ({ status: 'none' }),
};

const instant = z.iso.datetime({ offset: true });
const schemas = {
  EditorAccessRequested: z.object({ userId: z.string().min(1), name: z.string(), reason: z.string().optional(), requestedAt: instant }),
  EditorApproved: z.object({ userId: z.string().min(1), approvedBy: storedActorSchema, approvedAt: instant }),
  EditorSuspended: z.object({
    userId: z.string().min(1),
    suspendedBy: storedActorSchema,
    reason: z.string().optional(),
    suspendedAt: instant,
  }),
} satisfies Record<EditorEvent['type'], z.ZodType>;

/** Checks a stored editor event against the contract: a malformed one is poison to the projection, not a crash. */
export function parseEditorEvent(event: Event): EditorEvent {
  if (!Object.hasOwn(schemas, event.type)) throw new PoisonEventError(`Unknown editor event type "${event.type}".`);
  const type = event.type as EditorEvent['type'];
  const result = schemas[type].safeParse(event.data);
  if (!result.success) throw new PoisonEventError(`${type} does not match its contract: ${result.error.issues[0]?.message ?? 'invalid'}.`);
  return { type, data: result.data } as EditorEvent;
}

import { v5 as uuidV5 } from 'uuid';
import { actorOf, isAdmin, type Actor, type Caller, type Person } from '../../kernel/caller';
import type { RequestOrigin } from '../../kernel/event';
import { readTyped, type EventStore } from '../../platform/eventSourcing/eventStore';
import { handleCommand } from '../../platform/eventSourcing/handleCommand';
import { editorDecider, isEditorEvent, toEditorStreamId, type EditorCommand, type EditorState, type EditorStatus } from '../domain/editor';
import type { EditorViews } from './editorViews';
import type { EditorView } from '../projection/editorView';

export interface EditorAccessDeps {
  readonly eventStore: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
}

export interface EditorAccessOutcome {
  readonly userId: string;
  readonly status: EditorStatus;
}

const EDITOR_EVENTS_NAMESPACE = '0d3c8f3e-5b7a-4c61-9f0e-2a4b6c8d1e57';

/** A signed-in person asks to become an editor. Asking again changes nothing. */
export function requestEditorAccess(deps: EditorAccessDeps, person: Person, reason: string | undefined, origin: RequestOrigin) {
  const now = deps.clock();
  return run(
    deps,
    {
      type: 'RequestEditorAccess',
      data: { userId: person.userId, name: person.name, ...(reason !== undefined && { reason }), now: now.toISOString() },
    },
    now,
    actorOf(person),
    origin,
  );
}

/** An admin approves (or restores) an editor. */
export function approveEditor(deps: EditorAccessDeps, admin: Caller, userId: string, origin: RequestOrigin) {
  const now = deps.clock();
  return run(deps, { type: 'ApproveEditor', data: { userId, by: actorOf(admin), now: now.toISOString() } }, now, actorOf(admin), origin);
}

/** An admin suspends an editor: their places stay, they can no longer propose or change any. */
export function suspendEditor(deps: EditorAccessDeps, admin: Caller, userId: string, reason: string | undefined, origin: RequestOrigin) {
  const now = deps.clock();
  return run(
    deps,
    { type: 'SuspendEditor', data: { userId, by: actorOf(admin), ...(reason !== undefined && { reason }), now: now.toISOString() } },
    now,
    actorOf(admin),
    origin,
  );
}

/**
 * A person's editor access as their stream says now (not the view: a suspension must hold from the
 * moment it is recorded, not once the projection catches up). One partition-scoped read.
 */
export async function editorStatusOf(eventStore: EventStore, userId: string): Promise<EditorState['status']> {
  const { events } = await readTyped(eventStore, toEditorStreamId(userId), isEditorEvent);
  return events.reduce(editorDecider.evolve, editorDecider.initialState()).status;
}

/** Editors in one status, earliest request first, as admins see them (without the storage keys). */
export async function editorsWithStatus(
  views: EditorViews,
  status: EditorStatus,
  limit: number,
): Promise<Omit<EditorView, 'id' | 'partitionKey' | 'type' | 'version'>[]> {
  return (await views.editorsWithStatus(status, limit)).map(
    ({ id: _id, partitionKey: _pk, type: _type, version: _version, ...editor }) => editor,
  );
}

/** Who a signed-in person is to this app: their name and roles, whether they administer it, and their editor access. */
export async function whoIs(
  eventStore: EventStore,
  person: Person,
): Promise<{ userId: string; name: string; roles: string[]; isAdmin: boolean; editorStatus: EditorState['status'] }> {
  const { userId, name, roles } = person;
  return { userId, name, roles: [...roles], isAdmin: isAdmin(person), editorStatus: await editorStatusOf(eventStore, userId) };
}

async function run(
  deps: EditorAccessDeps,
  command: EditorCommand,
  now: Date,
  actor: Actor,
  origin: RequestOrigin,
): Promise<EditorAccessOutcome> {
  const commandId = origin.commandId ?? deps.newId();
  const { state } = await handleCommand(deps.eventStore, toEditorStreamId(command.data.userId), editorDecider, isEditorEvent, command, {
    correlationId: origin.correlationId,
    causationId: origin.requestId,
    now,
    actor,
    eventId: (index) => uuidV5(`${commandId}/${index}`, EDITOR_EVENTS_NAMESPACE),
  });
  if (state.status === 'none') throw new Error(`Editor ${command.data.userId} has no access after ${command.type}.`);
  return { userId: command.data.userId, status: state.status };
}

import type { Actor } from '../../kernel/caller';
import type { RecordedEvent } from '../../kernel/event';
import type { ViewDocumentBase } from '../../kernel/viewDocument';
import type { EditorEvent, EditorStatus } from '../domain/editor';

/** One person's editor access, in the one `editors` partition (editors are few; admins list them by status). */
export interface EditorView extends ViewDocumentBase {
  readonly type: 'editor';
  readonly userId: string;
  readonly name: string;
  readonly status: EditorStatus;
  readonly reason?: string;
  readonly requestedAt: string;
  /** When an admin last approved or suspended them, and who. */
  readonly decidedAt?: string;
  readonly decidedBy?: Actor;
  readonly suspendedReason?: string;
  /** The editor stream's version this reflects. */
  readonly version: number;
}

export const EDITORS_PARTITION = 'editors';
export const editorViewKey = (userId: string) => ({ id: `editor-${userId}`, partitionKey: EDITORS_PARTITION });

/** Folds one editor event into the view; an event at or below the view's version changes nothing. */
export function evolveEditorView(view: EditorView | null, event: RecordedEvent<EditorEvent>): EditorView | null {
  if (view && event.version <= view.version) return view;
  switch (event.type) {
    case 'EditorAccessRequested': {
      if (view) return view;
      const { userId, name, reason, requestedAt } = event.data;
      return {
        ...editorViewKey(userId),
        type: 'editor',
        userId,
        name,
        status: 'pending',
        ...(reason !== undefined && { reason }),
        requestedAt,
        version: event.version,
      };
    }
    case 'EditorApproved': {
      if (!view) return null;
      const { suspendedReason: _dropped, ...rest } = view;
      return { ...rest, status: 'approved', decidedAt: event.data.approvedAt, decidedBy: event.data.approvedBy, version: event.version };
    }
    case 'EditorSuspended':
      if (!view) return null;
      return {
        ...view,
        status: 'suspended',
        decidedAt: event.data.suspendedAt,
        decidedBy: event.data.suspendedBy,
        ...(event.data.reason !== undefined && { suspendedReason: event.data.reason }),
        version: event.version,
      };
  }
}

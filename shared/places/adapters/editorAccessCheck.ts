import { editorStatusOf } from '../../editors/application/editorAccess';
import type { EventStore } from '../../platform/eventSourcing/eventStore';
import type { EditorAccess } from '../application/placeCommands';

/** The places' question to the editors' feature, answered from the person's editor stream (consistent, one read). */
export class EditorAccessCheck implements EditorAccess {
  constructor(private readonly eventStore: EventStore) {}

  async isApprovedEditor(userId: string): Promise<boolean> {
    return (await editorStatusOf(this.eventStore, userId)) === 'approved';
  }
}

import type { EditorStatus } from '../domain/editor';
import type { EditorView } from '../projection/editorView';

/** What the admins' list of editors reads. */
export interface EditorViews {
  /** Editors in one status, earliest request first, up to `limit`. */
  editorsWithStatus(status: EditorStatus, limit: number): Promise<EditorView[]>;
}

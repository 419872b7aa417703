import { IllegalStateError, NotFoundError } from '../../../shared/kernel/errors';
import { editorDecider, type EditorCommand, type EditorEvent } from '../../../shared/editors/domain/editor';
import { evolveEditorView } from '../../../shared/editors/projection/editorView';
import type { RecordedEvent } from '../../../shared/kernel/event';
import { DeciderSpecification } from '../../support/deciderSpecification';

const spec = DeciderSpecification.for(editorDecider);
const now = '2026-12-07T09:00:00.000Z';
const root = { id: 'root-oid', name: 'Root' };
const requested: EditorEvent = {
  type: 'EditorAccessRequested',
  data: { userId: 'ann-oid', name: 'Ann', reason: 'I run the toddler group', requestedAt: now },
};
const approved: EditorEvent = { type: 'EditorApproved', data: { userId: 'ann-oid', approvedBy: root, approvedAt: now } };
const suspended: EditorEvent = {
  type: 'EditorSuspended',
  data: { userId: 'ann-oid', suspendedBy: root, reason: 'spam', suspendedAt: now },
};
const request: EditorCommand = {
  type: 'RequestEditorAccess',
  data: { userId: 'ann-oid', name: 'Ann', reason: 'I run the toddler group', now },
};
const approve: EditorCommand = { type: 'ApproveEditor', data: { userId: 'ann-oid', by: root, now } };
const suspend: EditorCommand = { type: 'SuspendEditor', data: { userId: 'ann-oid', by: root, reason: 'spam', now } };

describe('editor access decider', () => {
  it('a person asks once; asking again while pending or approved changes nothing', () => {
    spec.given([]).when(request).then([requested]);
    spec.given([requested]).when(request).thenNothingHappens();
    spec.given([requested, approved]).when(request).thenNothingHappens();
  });

  it('a suspended editor cannot ask again: an admin restores them', () => {
    spec
      .given([requested, approved, suspended])
      .when(request)
      .thenThrows(IllegalStateError, /suspended/);
    spec
      .given([requested, approved, suspended])
      .when(approve)
      .then([{ ...approved }]);
  });

  it('an admin approves a pending request once, and suspends an approved (or pending) editor once', () => {
    spec.given([requested]).when(approve).then([approved]);
    spec.given([requested, approved]).when(approve).thenNothingHappens();
    spec.given([requested, approved]).when(suspend).then([suspended]);
    spec.given([requested]).when(suspend).then([suspended]);
    spec.given([requested, approved, suspended]).when(suspend).thenNothingHappens();
  });

  it('nobody can be approved or suspended who has not asked', () => {
    spec.given([]).when(approve).thenThrows(NotFoundError);
    spec.given([]).when(suspend).thenThrows(NotFoundError);
  });
});

describe('editor view', () => {
  const recorded = (event: EditorEvent, version: number): RecordedEvent<EditorEvent> => ({
    ...event,
    streamId: 'editor-ann-oid',
    version,
    metadata: { eventId: `e${version}`, correlationId: 'c', causationId: 'c', occurredAt: now },
  });

  it('given the request, approval and suspension, then the view says who decided and why; a redelivery changes nothing', () => {
    const afterRequest = evolveEditorView(null, recorded(requested, 1));
    expect(afterRequest).toMatchObject({
      id: 'editor-ann-oid',
      partitionKey: 'editors',
      status: 'pending',
      reason: 'I run the toddler group',
    });
    const afterApproval = evolveEditorView(afterRequest, recorded(approved, 2));
    expect(afterApproval).toMatchObject({ status: 'approved', decidedBy: root, decidedAt: now, version: 2 });
    const afterSuspension = evolveEditorView(afterApproval, recorded(suspended, 3));
    expect(afterSuspension).toMatchObject({ status: 'suspended', suspendedReason: 'spam', version: 3 });
    expect(evolveEditorView(afterSuspension, recorded(approved, 2))).toBe(afterSuspension);
    const restored = evolveEditorView(afterSuspension, recorded(approved, 4));
    expect(restored).toMatchObject({ status: 'approved', version: 4 });
    expect(restored).not.toHaveProperty('suspendedReason');
  });
});

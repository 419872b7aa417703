import { ForbiddenError, IllegalStateError, NotFoundError } from '../../../shared/kernel/errors';
import { placeDecider, type PlaceCommand } from '../../../shared/places/domain/decide';
import type { PlaceEvent, PlaceStatus } from '../../../shared/places/domain/place';
import { DeciderSpecification } from '../../support/deciderSpecification';

const spec = DeciderSpecification.for(placeDecider);
const placeId = '7d1c2a4e-5b6f-4c3d-8e9f-0a1b2c3d4e5f';
const now = '2026-11-27T09:00:00.000Z';
const geolocation = { latitude: 53.4771, longitude: -2.2547 };
const region = 'gcw2j';
const ann = { id: 'ann-oid', name: 'Ann' };
const bob = { id: 'bob-oid', name: 'Bob' };
const root = { id: 'root-oid', name: 'Root' };
/** Ann, the owner, asks (not an admin). */
const byAnn = { by: ann, byAdmin: false, now };

const proposed: PlaceEvent = {
  type: 'PlaceProposed',
  data: { placeId, name: 'Science and Industry Museum', geolocation, details: { kind: 'indoor' }, proposedAt: now, owner: ann },
};
const validated: PlaceEvent = { type: 'PlaceLocationValidated', data: { geolocation, region } };
const locationRejected: PlaceEvent = { type: 'PlaceLocationRejected', data: { reason: 'outside the service area' } };
const approved: PlaceEvent = { type: 'PlaceApproved', data: { approvedAt: now } };
const rejected: PlaceEvent = { type: 'PlaceRejected', data: { reason: 'duplicate', rejectedAt: now } };
const withdrawn: PlaceEvent = { type: 'PlaceWithdrawn', data: { reason: 'closed for good', withdrawnAt: now } };

/** The shortest history that brings a place to each status. */
const historyOf: Record<PlaceStatus | 'absent', PlaceEvent[]> = {
  absent: [],
  proposed: [proposed],
  locationValidated: [proposed, validated],
  locationRejected: [proposed, locationRejected],
  approved: [proposed, validated, approved],
  rejected: [proposed, validated, rejected],
  withdrawn: [proposed, validated, approved, withdrawn],
};

const commands: Record<PlaceCommand['type'], PlaceCommand> = {
  ProposePlace: {
    type: 'ProposePlace',
    data: { placeId, proposal: { name: 'Science and Industry Museum', geolocation, details: { kind: 'indoor' } }, owner: ann, now },
  },
  UpdatePlaceDetails: {
    type: 'UpdatePlaceDetails',
    data: { placeId, changes: { description: 'Trains and looms', kind: 'mixed' }, ...byAnn },
  },
  RecordLocationValidated: { type: 'RecordLocationValidated', data: { placeId, geolocation, region } },
  RecordLocationRejected: { type: 'RecordLocationRejected', data: { placeId, reason: 'outside the service area' } },
  ApprovePlace: { type: 'ApprovePlace', data: { placeId, now } },
  RejectPlace: { type: 'RejectPlace', data: { placeId, reason: 'duplicate', now } },
  WithdrawPlace: { type: 'WithdrawPlace', data: { placeId, reason: 'closed for good', ...byAnn } },
  ApproveRevision: { type: 'ApproveRevision', data: { placeId, revision: 1, now } },
  RejectRevision: { type: 'RejectRevision', data: { placeId, revision: 1, reason: 'not true', now } },
};

const detailsUpdated: PlaceEvent = { type: 'PlaceDetailsUpdated', data: { description: 'Trains and looms', kind: 'mixed' } };
/** The owner's change to an approved place waits for an admin. */
const revisionProposed: PlaceEvent = {
  type: 'PlaceRevisionProposed',
  data: { revision: 1, changes: { description: 'Trains and looms', kind: 'mixed' }, proposedBy: ann, proposedAt: now },
};

type Outcome = PlaceEvent | 'nothing' | typeof NotFoundError | typeof IllegalStateError;
const N = 'nothing' as const;
const NF = NotFoundError;
const IS = IllegalStateError;

/** What each command does in each status: an event, nothing (its effect already holds), or an error. */
const expected: Record<PlaceCommand['type'], Record<PlaceStatus | 'absent', Outcome>> = {
  //                        absent    proposed          locationValidated  locationRejected   approved       rejected  withdrawn
  ProposePlace: { absent: proposed, proposed: IS, locationValidated: IS, locationRejected: IS, approved: IS, rejected: IS, withdrawn: IS },
  UpdatePlaceDetails: {
    absent: NF,
    proposed: detailsUpdated,
    locationValidated: detailsUpdated,
    locationRejected: IS,
    approved: revisionProposed,
    rejected: IS,
    withdrawn: IS,
  },
  RecordLocationValidated: {
    absent: NF,
    proposed: validated,
    locationValidated: N,
    locationRejected: IS,
    approved: N,
    rejected: N,
    withdrawn: N,
  },
  RecordLocationRejected: {
    absent: NF,
    proposed: locationRejected,
    locationValidated: IS,
    locationRejected: N,
    approved: IS,
    rejected: IS,
    withdrawn: IS,
  },
  ApprovePlace: { absent: NF, proposed: IS, locationValidated: approved, locationRejected: IS, approved: N, rejected: IS, withdrawn: IS },
  RejectPlace: { absent: NF, proposed: IS, locationValidated: rejected, locationRejected: IS, approved: IS, rejected: N, withdrawn: IS },
  WithdrawPlace: { absent: NF, proposed: IS, locationValidated: IS, locationRejected: IS, approved: withdrawn, rejected: IS, withdrawn: N },
  // Revision 1 does not exist yet in any of these histories.
  ApproveRevision: { absent: NF, proposed: IS, locationValidated: IS, locationRejected: IS, approved: NF, rejected: IS, withdrawn: IS },
  RejectRevision: { absent: NF, proposed: IS, locationValidated: IS, locationRejected: IS, approved: NF, rejected: IS, withdrawn: IS },
};

const cases = Object.entries(expected).flatMap(([commandType, byStatus]) =>
  Object.entries(byStatus).map(([status, outcome]) => ({
    commandType: commandType as PlaceCommand['type'],
    status: status as PlaceStatus | 'absent',
    outcome,
  })),
);

describe('place decider: every command in every status', () => {
  it('covers 9 commands × 7 statuses', () => {
    expect(cases).toHaveLength(63);
  });

  it.each(cases)('given a $status place, when $commandType', ({ commandType, status, outcome }) => {
    const scenario = spec.given(historyOf[status]).when(commands[commandType]);
    if (outcome === 'nothing') scenario.thenNothingHappens();
    else if (typeof outcome === 'function') scenario.thenThrows(outcome);
    else scenario.then([outcome]);
  });
});

describe('place decider: rules in detail', () => {
  it('only a locationValidated place can be approved, and says why', () => {
    spec
      .given([proposed])
      .when(commands.ApprovePlace)
      .thenThrows(IllegalStateError, /validated/);
  });

  it('a second validation with a different location is a conflict, not a silent overwrite', () => {
    spec
      .given([proposed, validated])
      .when({ type: 'RecordLocationValidated', data: { placeId, geolocation: { latitude: 51.5, longitude: -0.12 }, region: 'gcpvj' } })
      .thenThrows(IllegalStateError);
  });

  it('a details update records only the fields that change', () => {
    spec
      .given([proposed])
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { kind: 'indoor', description: 'New' }, ...byAnn } })
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'New' } }]);
  });

  it('a details update that changes nothing is a no-op', () => {
    spec
      .given([proposed, { type: 'PlaceDetailsUpdated', data: { description: 'Trains' } }])
      .when({
        type: 'UpdatePlaceDetails',
        data: { placeId, changes: { kind: 'indoor', description: 'Trains', name: 'Science and Industry Museum' }, ...byAnn },
      })
      .thenNothingHappens();
  });

  it('null removes a detail, and removing an absent detail is a no-op', () => {
    spec
      .given([proposed])
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { kind: null }, ...byAnn } })
      .then([{ type: 'PlaceDetailsUpdated', data: { kind: null } }]);
    spec
      .given([proposed])
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { website: null }, ...byAnn } })
      .thenNothingHappens();
  });

  it('a renamed place keeps its other details', () => {
    const state = [proposed, { type: 'PlaceDetailsUpdated', data: { name: 'SIM', kind: null } } as PlaceEvent].reduce(
      placeDecider.evolve,
      placeDecider.initialState(),
    );
    expect(state).toMatchObject({ status: 'proposed', place: { name: 'SIM', details: {} } });
  });

  it('evolve ignores an event that cannot follow the current status (replays never fail)', () => {
    const state = [proposed, approved].reduce(placeDecider.evolve, placeDecider.initialState());
    expect(state.status).toBe('proposed');
  });
});

describe('place decider: owners and revisions', () => {
  const approvedPlace = historyOf.approved;
  const change = (changes: Record<string, unknown>, who = byAnn): PlaceCommand => ({
    type: 'UpdatePlaceDetails',
    data: { placeId, changes, ...who },
  });
  const revision = (n: number, description: string, by = ann): PlaceEvent => ({
    type: 'PlaceRevisionProposed',
    data: { revision: n, changes: { description }, proposedBy: by, proposedAt: now },
  });

  it('a proposal records who proposed it as its owner', () => {
    spec.given([]).when(commands.ProposePlace).then([proposed]);
  });

  it('only the owner or an admin may change or withdraw a place: another editor is refused', () => {
    spec
      .given([proposed])
      .when(change({ description: 'Mine now' }, { by: bob, byAdmin: false, now }))
      .thenThrows(ForbiddenError, /owner or an administrator/);
    spec
      .given(approvedPlace)
      .when({ type: 'WithdrawPlace', data: { placeId, reason: 'mine', by: bob, byAdmin: false, now } })
      .thenThrows(ForbiddenError);
    spec
      .given([proposed])
      .when(change({ description: 'Fixed' }, { by: root, byAdmin: true, now }))
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'Fixed' } }]);
  });

  it('a place from before owners may be changed by any machine key, by people only if admins', () => {
    const { owner: _owner, ...legacyData } = proposed.data;
    const legacy: PlaceEvent = { type: 'PlaceProposed', data: legacyData };
    spec
      .given([legacy])
      .when(
        change({ description: 'By script' }, { by: { id: 'key:function-1a2b3c4d', name: 'key:function-1a2b3c4d' }, byAdmin: false, now }),
      )
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'By script' } }]);
    spec
      .given([legacy])
      .when(change({ description: 'By Ann' }))
      .thenThrows(ForbiddenError);
  });

  it('a place a machine proposed may be changed by any machine key (a rotated key keeps its places), not by a person', () => {
    const byScript = {
      ...proposed.data,
      owner: { id: 'key:function-1a2b3c4d', name: 'key:function-1a2b3c4d' },
    };
    const scripted: PlaceEvent = { type: 'PlaceProposed', data: byScript };
    spec
      .given([scripted])
      .when(
        change(
          { description: 'By the new key' },
          { by: { id: 'key:function-9f8e7d6c', name: 'key:function-9f8e7d6c' }, byAdmin: false, now },
        ),
      )
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'By the new key' } }]);
    spec
      .given([scripted])
      .when(change({ description: 'By Ann' }))
      .thenThrows(ForbiddenError);
  });

  it("an admin's change to an approved place applies at once", () => {
    spec
      .given(approvedPlace)
      .when(change({ description: 'Corrected' }, { by: root, byAdmin: true, now }))
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'Corrected' } }]);
  });

  it('the same change sent again while it waits is the same revision; a different one supersedes it', () => {
    spec
      .given([...approvedPlace, revision(1, 'Looms')])
      .when(change({ description: 'Looms' }))
      .thenNothingHappens();
    spec
      .given([...approvedPlace, revision(1, 'Looms')])
      .when(change({ description: 'Trains' }))
      .then([revision(2, 'Trains')]);
  });

  it('approving the pending revision applies its changes; rejecting keeps the approved details', () => {
    const approvedRevision: PlaceEvent = { type: 'PlaceRevisionApproved', data: { revision: 1, approvedAt: now } };
    spec
      .given([...approvedPlace, revision(1, 'Looms')])
      .when({ type: 'ApproveRevision', data: { placeId, revision: 1, now } })
      .then([approvedRevision]);
    const after = [...approvedPlace, revision(1, 'Looms'), approvedRevision].reduce(placeDecider.evolve, placeDecider.initialState());
    expect(after).toMatchObject({
      status: 'approved',
      place: { details: { kind: 'indoor', description: 'Looms' } },
      revisions: { last: 1 },
    });
    expect(after).not.toHaveProperty('revisions.pending');

    const rejectedRevision: PlaceEvent = { type: 'PlaceRevisionRejected', data: { revision: 1, reason: 'not true', rejectedAt: now } };
    spec
      .given([...approvedPlace, revision(1, 'Looms')])
      .when(commands.RejectRevision)
      .then([rejectedRevision]);
    const kept = [...approvedPlace, revision(1, 'Looms'), rejectedRevision].reduce(placeDecider.evolve, placeDecider.initialState());
    expect(kept).toMatchObject({ status: 'approved', place: { details: { kind: 'indoor' } } });
    expect(kept).not.toHaveProperty('place.details.description');
  });

  it('deciding a revision again is a no-op; deciding a superseded or differently decided one is refused', () => {
    const approvedRevision: PlaceEvent = { type: 'PlaceRevisionApproved', data: { revision: 1, approvedAt: now } };
    spec
      .given([...approvedPlace, revision(1, 'Looms'), approvedRevision])
      .when(commands.ApproveRevision)
      .thenNothingHappens();
    spec
      .given([...approvedPlace, revision(1, 'Looms'), approvedRevision])
      .when(commands.RejectRevision)
      .thenThrows(IllegalStateError, /approved/);
    spec
      .given([...approvedPlace, revision(1, 'Looms'), revision(2, 'Trains')])
      .when(commands.ApproveRevision)
      .thenThrows(IllegalStateError, /superseded/);
    spec
      .given([...approvedPlace, revision(1, 'Looms')])
      .when({ type: 'ApproveRevision', data: { placeId, revision: 7, now } })
      .thenThrows(NotFoundError);
  });

  it('withdrawing a place drops a revision still waiting', () => {
    spec
      .given([...approvedPlace, revision(1, 'Looms'), withdrawn])
      .when(commands.ApproveRevision)
      .thenThrows(IllegalStateError, /withdrawn/);
  });
});

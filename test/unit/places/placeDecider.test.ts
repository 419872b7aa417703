import { IllegalStateError, NotFoundError } from '../../../shared/kernel/errors';
import { placeDecider, type PlaceCommand } from '../../../shared/places/domain/decide';
import type { PlaceEvent, PlaceStatus } from '../../../shared/places/domain/place';
import { DeciderSpecification } from '../../support/deciderSpecification';

const spec = DeciderSpecification.for(placeDecider);
const placeId = '7d1c2a4e-5b6f-4c3d-8e9f-0a1b2c3d4e5f';
const now = '2026-11-27T09:00:00.000Z';
const geolocation = { latitude: 53.4771, longitude: -2.2547 };
const region = 'gcw2j';

const proposed: PlaceEvent = {
  type: 'PlaceProposed',
  data: { placeId, name: 'Science and Industry Museum', geolocation, details: { kind: 'indoor' }, proposedAt: now },
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
    data: { placeId, proposal: { name: 'Science and Industry Museum', geolocation, details: { kind: 'indoor' } }, now },
  },
  UpdatePlaceDetails: { type: 'UpdatePlaceDetails', data: { placeId, changes: { description: 'Trains and looms', kind: 'mixed' } } },
  RecordLocationValidated: { type: 'RecordLocationValidated', data: { placeId, geolocation, region } },
  RecordLocationRejected: { type: 'RecordLocationRejected', data: { placeId, reason: 'outside the service area' } },
  ApprovePlace: { type: 'ApprovePlace', data: { placeId, now } },
  RejectPlace: { type: 'RejectPlace', data: { placeId, reason: 'duplicate', now } },
  WithdrawPlace: { type: 'WithdrawPlace', data: { placeId, reason: 'closed for good', now } },
};

const detailsUpdated: PlaceEvent = { type: 'PlaceDetailsUpdated', data: { description: 'Trains and looms', kind: 'mixed' } };

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
    approved: detailsUpdated,
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
};

const cases = Object.entries(expected).flatMap(([commandType, byStatus]) =>
  Object.entries(byStatus).map(([status, outcome]) => ({
    commandType: commandType as PlaceCommand['type'],
    status: status as PlaceStatus | 'absent',
    outcome,
  })),
);

describe('place decider: every command in every status', () => {
  it('covers 7 commands × 7 statuses', () => {
    expect(cases).toHaveLength(49);
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
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { kind: 'indoor', description: 'New' } } })
      .then([{ type: 'PlaceDetailsUpdated', data: { description: 'New' } }]);
  });

  it('a details update that changes nothing is a no-op', () => {
    spec
      .given([proposed, { type: 'PlaceDetailsUpdated', data: { description: 'Trains' } }])
      .when({
        type: 'UpdatePlaceDetails',
        data: { placeId, changes: { kind: 'indoor', description: 'Trains', name: 'Science and Industry Museum' } },
      })
      .thenNothingHappens();
  });

  it('null removes a detail, and removing an absent detail is a no-op', () => {
    spec
      .given([proposed])
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { kind: null } } })
      .then([{ type: 'PlaceDetailsUpdated', data: { kind: null } }]);
    spec
      .given([proposed])
      .when({ type: 'UpdatePlaceDetails', data: { placeId, changes: { website: null } } })
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

import { regionCentre, regionOf } from '../../../shared/regions/domain/geohash';
import { decideRegion, evolveRegion, isRegion, regionDecider, toRegionStreamId } from '../../../shared/regions/domain/region';

describe('regions', () => {
  it('are geohash cells at the configured precision, with a stream each', () => {
    const region = regionOf({ latitude: 53.2268, longitude: -2.8846 }, 5);
    expect(region).toBe('gcmyy');
    expect(regionOf({ latitude: 53.2268, longitude: -2.8846 }, 7)).toMatch(/^gcmyy.{2}$/);
    expect(toRegionStreamId(region)).toBe('region-gcmyy');
    expect(() => toRegionStreamId('not a geohash')).toThrow(RangeError);
    expect(isRegion('gcmyy')).toBe(true);
    expect(isRegion('gcmya')).toBe(false);
  });

  it('have a centre inside their cell', () => {
    const centre = regionCentre('gcmyy');
    expect(regionOf(centre, 5)).toBe('gcmyy');
    expect(centre.latitude).toBeCloseTo(53.24, 2);
  });

  it('are activated once: activating an active region decides nothing', () => {
    const command = { type: 'ActivateRegion', data: { region: 'gcmyy', centre: regionCentre('gcmyy') } } as const;
    const [activated] = decideRegion(command, regionDecider.initialState());
    expect(activated).toEqual({ type: 'RegionActivated', data: command.data });
    if (!activated) throw new Error('no event');
    const state = evolveRegion(regionDecider.initialState(), activated);
    expect(state).toEqual({ active: true, recordedCycles: new Set() });
    expect(decideRegion(command, state)).toEqual([]);
    expect(evolveRegion(state, activated)).toBe(state);
  });
});

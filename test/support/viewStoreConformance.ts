import { randomUUID } from 'node:crypto';
import type { PlaceStatus } from '../../shared/places/domain/place';
import { nearbyEntry } from './nearbyEntries';
import { ViewWriteConflictError, type ViewStore } from '../../shared/platform/views/viewStore';
import type { PlaceViews } from '../../shared/places/application/placeViews';
import type { RegionViews } from '../../shared/regions/application/regionViews';
import type { EditorViews } from '../../shared/editors/application/editorViews';
import { editorViewKey, type EditorView } from '../../shared/editors/projection/editorView';

/** An adapter of the views container serves the projections' store and each feature's query port. */
type Views = ViewStore & PlaceViews & RegionViews & EditorViews;
import { statusEntryKey, type NewestEntry, type PlaceView, type StatusEntry } from '../../shared/places/projection/placeDocuments';

/** The contract of every adapter of the views container: ViewStore, PlaceViews and RegionViews. */
export function describeViewStoreConformance(adapterName: string, storeFor: () => Views): void {
  describe(`ViewStore conformance: ${adapterName}`, () => {
    let views: Views;
    beforeEach(() => {
      views = storeFor();
    });
    const placeView = (placeId = randomUUID()): PlaceView => ({
      id: `place-${placeId}`,
      partitionKey: `place-${placeId}`,
      type: 'place',
      placeId,
      name: 'Zoo',
      status: 'proposed',
      version: 1,
      geolocation: null,
      region: null,
      proposedAt: '2026-11-27T09:00:00.000Z',
      updatedAt: '2026-11-27T09:00:00.000Z',
    });

    it('creates, reads and replaces under optimistic concurrency', async () => {
      const view = placeView();
      await expect(views.read(view)).resolves.toBeUndefined();
      await views.write(view, 'ifAbsent');
      await expect(views.write(view, 'ifAbsent')).rejects.toBeInstanceOf(ViewWriteConflictError);
      const stored = await views.read<PlaceView>(view);
      expect(stored?.document).toEqual(view);
      await views.write({ ...view, version: 2 }, { ifMatch: stored!.etag });
      await expect(views.write({ ...view, version: 3 }, { ifMatch: stored!.etag })).rejects.toBeInstanceOf(ViewWriteConflictError);
      expect((await views.read<PlaceView>(view))?.document.version).toBe(2);
    });

    it('upserts with "any" and removes idempotently', async () => {
      const view = placeView();
      await views.write(view, 'any');
      await views.write({ ...view, name: 'Zoo 2' }, 'any');
      expect((await views.read<PlaceView>(view))?.document.name).toBe('Zoo 2');
      await views.remove(view);
      await views.remove(view);
      await expect(views.read(view)).resolves.toBeUndefined();
    });

    it('finds the places in a circle, nearest first, with filters, and forgets removed ones', async () => {
      await views.clear();
      const centre = { latitude: 53.4771, longitude: -2.2547 };
      const near = nearbyEntry(53.4772, -2.2546, { kind: 'indoor' });
      const further = nearbyEntry(53.49, -2.25, { kind: 'outdoor' });
      const outside = nearbyEntry(51.5, -0.12);
      for (const entry of [near, further, outside]) await views.write(entry, 'any');
      const ids = async (filter = {}) => [...(await views.nearby(centre, 5, filter))].map(({ entry }) => entry.placeId);
      expect(await ids()).toEqual([near.placeId, further.placeId]);
      expect(await ids({ kind: 'outdoor' })).toEqual([further.placeId]);
      await views.remove(near);
      expect(await ids()).toEqual([further.placeId]);
    });

    it('lists the newest approved places first, up to the limit', async () => {
      const entry = (approvedAt: string): NewestEntry => {
        const placeId = randomUUID();
        return {
          id: `newest-${placeId}`,
          partitionKey: 'newest',
          type: 'newest',
          placeId,
          name: approvedAt,
          region: 'gcw2h',
          approvedAt,
          sourceVersion: 3,
        };
      };
      await views.clear();
      for (const at of ['2026-11-01T00:00:00Z', '2026-11-03T00:00:00Z', '2026-11-02T00:00:00Z']) await views.write(entry(at), 'any');
      expect((await views.newest(2)).map((e) => e.approvedAt)).toEqual(['2026-11-03T00:00:00Z', '2026-11-02T00:00:00Z']);
    });

    it('lists the places of one status, earliest proposed first, up to the limit', async () => {
      const entry = (status: PlaceStatus, proposedAt: string): StatusEntry => {
        const placeId = randomUUID();
        return {
          ...placeView(placeId),
          ...statusEntryKey(placeId, status),
          type: 'status',
          status,
          name: proposedAt,
          proposedAt,
          description: 'Lions and tigers',
        };
      };
      await views.clear();
      const waiting = ['2026-11-03T00:00:00.000Z', '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'].map((at) =>
        entry('locationValidated', at),
      );
      const approved = entry('approved', '2026-10-01T00:00:00.000Z');
      for (const document of [...waiting, approved]) await views.write(document, 'any');
      expect((await views.withStatus('locationValidated', 2)).map((e) => e.proposedAt)).toEqual([
        '2026-11-01T00:00:00.000Z',
        '2026-11-02T00:00:00.000Z',
      ]);
      expect(await views.withStatus('approved', 10)).toEqual([approved]);
      expect(await views.withStatus('rejected', 10)).toEqual([]);
      await views.remove(waiting[1]!);
      expect((await views.withStatus('locationValidated', 10)).map((e) => e.proposedAt)).toEqual([
        '2026-11-02T00:00:00.000Z',
        '2026-11-03T00:00:00.000Z',
      ]);
    });

    it("lists one owner's places, latest proposed first, and nobody else's", async () => {
      const owned = (ownerId: string, proposedAt: string, status: PlaceStatus): StatusEntry => {
        const placeId = randomUUID();
        return {
          ...placeView(placeId),
          ...statusEntryKey(placeId, status),
          type: 'status',
          status,
          proposedAt,
          owner: { id: ownerId, name: ownerId },
        };
      };
      await views.clear();
      const anns = [owned('ann', '2026-11-01T00:00:00.000Z', 'approved'), owned('ann', '2026-11-03T00:00:00.000Z', 'proposed')];
      const bobs = owned('bob', '2026-11-02T00:00:00.000Z', 'proposed');
      for (const document of [...anns, bobs]) await views.write(document, 'any');
      expect((await views.ownedBy('ann', 10)).map((entry) => entry.proposedAt)).toEqual([
        '2026-11-03T00:00:00.000Z',
        '2026-11-01T00:00:00.000Z',
      ]);
      expect(await views.ownedBy('ann', 1)).toEqual([anns[1]]);
      expect(await views.ownedBy('bob', 10)).toEqual([bobs]);
      expect(await views.ownedBy('carol', 10)).toEqual([]);
    });

    it('lists the editors of one status, earliest request first, up to the limit', async () => {
      const editor = (userId: string, status: EditorView['status'], requestedAt: string): EditorView => ({
        ...editorViewKey(userId),
        type: 'editor',
        userId,
        name: userId,
        status,
        requestedAt,
        version: 1,
      });
      await views.clear();
      const pending = [editor('b', 'pending', '2026-11-02T00:00:00.000Z'), editor('a', 'pending', '2026-11-01T00:00:00.000Z')];
      const approved = editor('c', 'approved', '2026-10-01T00:00:00.000Z');
      for (const document of [...pending, approved]) await views.write(document, 'any');
      expect((await views.editorsWithStatus('pending', 10)).map((e) => e.userId)).toEqual(['a', 'b']);
      expect((await views.editorsWithStatus('pending', 1)).map((e) => e.userId)).toEqual(['a']);
      expect(await views.editorsWithStatus('approved', 10)).toEqual([approved]);
      expect(await views.editorsWithStatus('suspended', 10)).toEqual([]);
    });

    it('reads the forecasts of several regions at once and clears everything', async () => {
      for (const region of ['gcw2h', 'gcw2j']) {
        await views.write(
          {
            id: `region-${region}`,
            partitionKey: 'regionForecasts',
            type: 'regionForecast',
            region,
            centre: null,
            version: 2,
            source: 'open-meteo',
            issuedAt: null,
            updatedAt: null,
            cycleId: null,
            hourly: [],
            lastFailure: null,
          },
          'any',
        );
      }
      expect((await views.regionForecasts(['gcw2h', 'gcw2j', 'nowhere'])).map((view) => view.region).sort()).toEqual(['gcw2h', 'gcw2j']);
      await views.clear();
      expect(await views.regionForecasts(['gcw2h'])).toEqual([]);
    });

    it('lists the refresh state of every active region without its forecast', async () => {
      await views.clear();
      const hourly = [
        {
          time: '2026-11-27T10:00:00.000Z',
          temperatureC: 7,
          precipitationProbability: 10,
          precipitationMm: 0,
          weather: 'clear' as const,
          windKph: 5,
          gustKph: 8,
          uvIndex: 1,
        },
      ];
      const base = {
        partitionKey: 'regionForecasts',
        type: 'regionForecast' as const,
        version: 2,
        source: 'open-meteo',
        issuedAt: '2026-11-27T09:00:00Z',
        cycleId: 'c1',
        hourly,
        lastFailure: null,
      };
      await views.write(
        { ...base, id: 'region-gcw2h', region: 'gcw2h', centre: { latitude: 53.46, longitude: -2.21 }, updatedAt: '2026-11-27T09:00:05Z' },
        'any',
      );
      await views.write(
        {
          ...base,
          id: 'region-gcw2j',
          region: 'gcw2j',
          centre: { latitude: 53.5, longitude: -2.2 },
          updatedAt: null,
          latestEvent: { version: 1, at: '2026-11-27T08:00:00Z' },
        },
        'any',
      );
      // A forecast projected before its region's activation: no centre yet, so nothing to fetch for.
      await views.write({ ...base, id: 'region-gcw2k', region: 'gcw2k', centre: null, updatedAt: null }, 'any');
      const states = (await views.regionRefreshStates()).sort((a, b) => a.region.localeCompare(b.region));
      expect(states).toEqual([
        { region: 'gcw2h', centre: { latitude: 53.46, longitude: -2.21 }, updatedAt: '2026-11-27T09:00:05Z' },
        // The stream's newest event as the view saw it: the plan may have recording append at its version.
        {
          region: 'gcw2j',
          centre: { latitude: 53.5, longitude: -2.2 },
          updatedAt: null,
          latestEvent: { version: 1, at: '2026-11-27T08:00:00Z' },
        },
      ]);
    });
  });
}

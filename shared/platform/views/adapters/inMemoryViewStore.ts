import type { RegionRefreshState } from '../../../regions/domain/refreshPlan';
import { type ViewDocument } from '../documents';
import { ViewWriteConflictError, type StoredView, type ViewKey, type ViewStore, type WriteCondition } from '../viewStore';
import {
  NEWEST_PARTITION,
  STATUS_LISTS,
  statusPartition,
  type ManagedList,
  type NearbyEntry,
  type NewestEntry,
  type StatusEntry,
} from '../../../places/projection/placeDocuments';
import { REGION_FORECASTS_PARTITION, type RegionForecastView } from '../../../regions/projection/regionForecastDocument';
import type { Geolocation } from '../../../kernel/geolocation';
import type { PlaceViews } from '../../../places/application/placeViews';
import { nearbyFromCells, type NearbyFilter, type RankedEntry } from '../../../places/application/nearbySearch';
import type { RegionViews } from '../../../regions/application/regionViews';
import type { EditorViews } from '../../../editors/application/editorViews';
import { EDITORS_PARTITION, type EditorView } from '../../../editors/projection/editorView';
import type { EditorStatus } from '../../../editors/domain/editor';
import type { RegionSearchCounts, SearchDemandStore } from '../../../regions/application/searchDemand';
import type { ForecastCallLedger } from '../../../regions/application/forecastCallLedger';
import { expiredHourKeys, type RegionDemand } from '../../../regions/domain/searchDemand';

interface Stored {
  readonly document: ViewDocument;
  readonly etag: string;
}

/**
 * The view store in process memory, with the secondary indexes a database would keep: spatial
 * entries by cell, so a nearby search touches only the cells of its circle. The regions' search
 * demand and call ledger live beside the views but are no views: `clear()` keeps them and `all()`
 * does not list them.
 */
export class InMemoryViewStore implements ViewStore, PlaceViews, RegionViews, EditorViews, SearchDemandStore, ForecastCallLedger {
  private readonly partitions = new Map<string, Map<string, Stored>>();
  private readonly cellIndex = new Map<string, Map<string, Map<string, NearbyEntry>>>();
  private readonly demand = new Map<string, { lastSearchedAt: string; hours: Record<string, number> }>();
  private readonly callsByDay = new Map<string, number>();
  private etagCounter = 0;

  read<T extends ViewDocument>(key: ViewKey): Promise<StoredView<T> | undefined> {
    const stored = this.partitions.get(key.partitionKey)?.get(key.id);
    return Promise.resolve(stored && { document: structuredClone(stored.document) as T, etag: stored.etag });
  }

  write(document: ViewDocument, condition: WriteCondition): Promise<void> {
    const partition = this.partitions.get(document.partitionKey) ?? new Map<string, Stored>();
    const existing = partition.get(document.id);
    const holds = condition === 'any' || (condition === 'ifAbsent' ? !existing : existing?.etag === condition.ifMatch);
    if (!holds) return Promise.reject(new ViewWriteConflictError(document));
    if (existing) this.unindex(existing.document);
    const copy = structuredClone(document);
    partition.set(document.id, { document: copy, etag: `"${++this.etagCounter}"` });
    this.partitions.set(document.partitionKey, partition);
    this.index(copy);
    return Promise.resolve();
  }

  remove(key: ViewKey): Promise<void> {
    const partition = this.partitions.get(key.partitionKey);
    const existing = partition?.get(key.id);
    if (existing) {
      this.unindex(existing.document);
      partition?.delete(key.id);
    }
    return Promise.resolve();
  }

  /** Returns the stored entries themselves (no copies: this runs on every search); treat them as read-only. */
  nearby(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Promise<RankedEntry[]> {
    return nearbyFromCells((partitionKey, field, cells) => this.nearbyInCells(partitionKey, field, cells), centre, radiusKm, filter);
  }

  nearbyInCells(partitionKey: string, field: 'cell4' | 'cell5', cells: readonly string[]): Promise<NearbyEntry[]> {
    const index = this.cellIndex.get(`${partitionKey}|${field}`);
    const found: NearbyEntry[] = [];
    if (index) {
      for (const cell of cells) {
        const entries = index.get(cell);
        if (entries) for (const entry of entries.values()) found.push(entry);
      }
    }
    return Promise.resolve(found);
  }

  newest(limit: number): Promise<NewestEntry[]> {
    const entries = [...(this.partitions.get(NEWEST_PARTITION)?.values() ?? [])]
      .map((stored) => stored.document)
      .filter((document): document is NewestEntry => document.type === 'newest')
      .sort((a, b) => b.approvedAt.localeCompare(a.approvedAt) || a.placeId.localeCompare(b.placeId));
    return Promise.resolve(entries.slice(0, limit));
  }

  withStatus(status: ManagedList, limit: number): Promise<StatusEntry[]> {
    return Promise.resolve(structuredClone(this.statusEntries(statusPartition(status)).slice(0, limit)));
  }

  ownedBy(ownerId: string, limit: number): Promise<StatusEntry[]> {
    const owned = STATUS_LISTS.flatMap((status) => this.statusEntries(statusPartition(status))).filter(
      (entry) => entry.owner?.id === ownerId,
    );
    owned.sort((a, b) => b.proposedAt.localeCompare(a.proposedAt) || b.placeId.localeCompare(a.placeId));
    return Promise.resolve(structuredClone(owned.slice(0, limit)));
  }

  private statusEntries(partitionKey: string): StatusEntry[] {
    return [...(this.partitions.get(partitionKey)?.values() ?? [])]
      .map((stored) => stored.document)
      .filter((document): document is StatusEntry => document.type === 'status')
      .sort((a, b) => a.proposedAt.localeCompare(b.proposedAt) || a.placeId.localeCompare(b.placeId));
  }

  editorsWithStatus(status: EditorStatus, limit: number): Promise<EditorView[]> {
    const editors = [...(this.partitions.get(EDITORS_PARTITION)?.values() ?? [])]
      .map((stored) => stored.document)
      .filter((document): document is EditorView => document.type === 'editor' && document.status === status)
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.userId.localeCompare(b.userId));
    return Promise.resolve(structuredClone(editors.slice(0, limit)));
  }

  regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]> {
    const partition = this.partitions.get(REGION_FORECASTS_PARTITION);
    const found = regions
      .map((region) => partition?.get(`region-${region}`)?.document)
      .filter((document): document is RegionForecastView => document?.type === 'regionForecast');
    return Promise.resolve(found);
  }

  regionRefreshStates(): Promise<RegionRefreshState[]> {
    const documents = [...(this.partitions.get(REGION_FORECASTS_PARTITION)?.values() ?? [])].map((stored) => stored.document);
    return Promise.resolve(
      documents.flatMap((document): RegionRefreshState[] => {
        if (document.type !== 'regionForecast' || document.centre === null) return [];
        const demand = this.demand.get(document.region);
        return [
          {
            region: document.region,
            centre: document.centre,
            updatedAt: document.updatedAt,
            ...(document.latestEvent && { latestEvent: document.latestEvent }),
            ...(document.lastFailure && { lastFailedAt: document.lastFailure.at }),
            ...(demand && { demand: structuredClone<RegionDemand>(demand) }),
          },
        ];
      }),
    );
  }

  addSearches(counts: readonly RegionSearchCounts[], now: Date): Promise<void> {
    for (const { region, hours, lastSearchedAt } of counts) {
      const kept = this.demand.get(region) ?? { lastSearchedAt, hours: {} };
      for (const [hour, searches] of Object.entries(hours)) kept.hours[hour] = (kept.hours[hour] ?? 0) + searches;
      for (const hour of expiredHourKeys(kept.hours, now)) Reflect.deleteProperty(kept.hours, hour);
      // As the Cosmos adapter's patch does: the last flush's time stands.
      kept.lastSearchedAt = lastSearchedAt;
      this.demand.set(region, kept);
    }
    return Promise.resolve();
  }

  callsOn(day: string): Promise<number> {
    return Promise.resolve(this.callsByDay.get(day) ?? 0);
  }

  reserveCalls(day: string, calls: number, limit: number): Promise<boolean> {
    const counted = this.callsByDay.get(day) ?? 0;
    if (counted + calls > limit) return Promise.resolve(false);
    this.callsByDay.set(day, counted + calls);
    return Promise.resolve(true);
  }

  releaseCalls(day: string, calls: number): Promise<void> {
    const counted = this.callsByDay.get(day);
    if (counted !== undefined && counted >= calls) this.callsByDay.set(day, counted - calls);
    return Promise.resolve();
  }

  /** Removes every view; the regions' search demand and call ledger stay (they are not derived from events). */
  clear(): Promise<void> {
    this.partitions.clear();
    this.cellIndex.clear();
    return Promise.resolve();
  }

  /** Every document the projections wrote (a rebuild's marker left out), for comparisons in tests. */
  all(): ViewDocument[] {
    return [...this.partitions.values()]
      .flatMap((partition) => [...partition.values()].map((stored) => stored.document))
      .filter((document) => document.type !== 'rebuildMarker');
  }

  private index(document: ViewDocument): void {
    if (document.type !== 'nearby') return;
    for (const field of ['cell4', 'cell5'] as const) {
      const key = `${document.partitionKey}|${field}`;
      const byCell = this.cellIndex.get(key) ?? new Map<string, Map<string, NearbyEntry>>();
      const entries = byCell.get(document[field]) ?? new Map<string, NearbyEntry>();
      entries.set(document.id, document);
      byCell.set(document[field], entries);
      this.cellIndex.set(key, byCell);
    }
  }

  private unindex(document: ViewDocument): void {
    if (document.type !== 'nearby') return;
    for (const field of ['cell4', 'cell5'] as const) {
      this.cellIndex.get(`${document.partitionKey}|${field}`)?.get(document[field])?.delete(document.id);
    }
  }
}

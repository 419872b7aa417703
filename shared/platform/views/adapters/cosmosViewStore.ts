import type { RegionRefreshState } from '../../../regions/domain/refreshPlan';
import type { Container, ItemDefinition, SqlQuerySpec } from '@azure/cosmos';
import { type ViewDocument } from '../documents';
import { ViewWriteConflictError, type StoredView, type ViewKey, type ViewStore, type WriteCondition } from '../viewStore';
import { type Geolocation } from '../../../kernel/geolocation';
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
import type { PlaceViews } from '../../../places/application/placeViews';
import { nearbyFromCells, type NearbyFilter, type RankedEntry } from '../../../places/application/nearbySearch';
import type { RegionViews } from '../../../regions/application/regionViews';
import type { EditorViews } from '../../../editors/application/editorViews';
import { EDITORS_PARTITION, type EditorView } from '../../../editors/projection/editorView';
import type { EditorStatus } from '../../../editors/domain/editor';
import { REGION_STATE_TYPES, type RegionSearchCounts, type SearchDemandStore } from '../../../regions/application/searchDemand';
import type { ForecastCallLedger } from '../../../regions/application/forecastCallLedger';
import type { RegionDemand } from '../../../regions/domain/searchDemand';
import { CosmosRegionState } from './cosmosRegionState';
import { containerOf, type ContainerSource } from '../../adapters/cosmosClient';

/** Cosmos system properties stripped from documents read back. */
const SYSTEM_PROPERTIES = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'];

/**
 * Read models in the Cosmos `views` container (partition key `/partitionKey`). Every read the API
 * makes is a point read or a single-partition query, so its cost follows what it returns, not the
 * size of the container. Counts its requests, so tests can hold queries to a budget.
 */
export class CosmosViewStore implements ViewStore, PlaceViews, RegionViews, EditorViews, SearchDemandStore, ForecastCallLedger {
  /** Requests sent to Cosmos so far (each query page counts). */
  requestCount = 0;
  /** The regions' search demand and call ledger: beside the views, but no views (a rebuild keeps them). */
  private readonly regionState: CosmosRegionState;

  private readonly container: () => Promise<Container>;

  constructor(container: ContainerSource) {
    this.container = containerOf(container);
    this.regionState = new CosmosRegionState(this.container, () => this.requestCount++);
  }

  async read<T extends ViewDocument>(key: ViewKey): Promise<StoredView<T> | undefined> {
    this.requestCount++;
    const { resource, etag } = await (await this.container()).item(key.id, key.partitionKey).read<ItemDefinition>();
    if (!resource) return undefined;
    return { document: stripSystemProperties(resource) as T, etag: etag };
  }

  async write(document: ViewDocument, condition: WriteCondition): Promise<void> {
    this.requestCount++;
    const container = await this.container();
    try {
      if (condition === 'any') await container.items.upsert(document);
      else if (condition === 'ifAbsent') await container.items.create(document);
      else
        await container
          .item(document.id, document.partitionKey)
          .replace(document, { accessCondition: { type: 'IfMatch', condition: condition.ifMatch } });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 409 || code === 412 || (code === 404 && typeof condition === 'object')) throw new ViewWriteConflictError(document);
      throw error;
    }
  }

  async remove(key: ViewKey): Promise<void> {
    this.requestCount++;
    try {
      await (await this.container()).item(key.id, key.partitionKey).delete();
    } catch (error) {
      if ((error as { code?: unknown }).code !== 404) throw error;
    }
  }

  nearby(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Promise<RankedEntry[]> {
    return nearbyFromCells((partitionKey, field, cells) => this.nearbyInCells(partitionKey, field, cells), centre, radiusKm, filter);
  }

  nearbyInCells(partitionKey: string, field: 'cell4' | 'cell5', cells: readonly string[]): Promise<NearbyEntry[]> {
    return this.query<NearbyEntry>(
      {
        query: `SELECT * FROM c WHERE c.partitionKey = @partitionKey AND c.type = 'nearby' AND ARRAY_CONTAINS(@cells, c.${field})`,
        parameters: [
          { name: '@partitionKey', value: partitionKey },
          { name: '@cells', value: [...cells] },
        ],
      },
      partitionKey,
    );
  }

  newest(limit: number): Promise<NewestEntry[]> {
    return this.query<NewestEntry>(
      {
        query: `SELECT TOP @limit * FROM c WHERE c.partitionKey = @partitionKey AND c.type = 'newest' ORDER BY c.approvedAt DESC`,
        parameters: [
          { name: '@limit', value: limit },
          { name: '@partitionKey', value: NEWEST_PARTITION },
        ],
      },
      NEWEST_PARTITION,
    );
  }

  withStatus(status: ManagedList, limit: number): Promise<StatusEntry[]> {
    return this.statusEntries(statusPartition(status), 'ASC', limit);
  }

  /** One query per status list (each partition-scoped), merged: an editor's own list is read rarely, written never. */
  async ownedBy(ownerId: string, limit: number): Promise<StatusEntry[]> {
    const lists = await Promise.all(STATUS_LISTS.map((status) => this.statusEntries(statusPartition(status), 'DESC', limit, ownerId)));
    return lists
      .flat()
      .sort((a, b) => b.proposedAt.localeCompare(a.proposedAt) || b.placeId.localeCompare(a.placeId))
      .slice(0, limit);
  }

  private statusEntries(partitionKey: string, order: 'ASC' | 'DESC', limit: number, ownerId?: string): Promise<StatusEntry[]> {
    return this.query<StatusEntry>(
      {
        query: `SELECT TOP @limit * FROM c WHERE c.partitionKey = @partitionKey AND c.type = 'status'${ownerId === undefined ? '' : ' AND c.owner.id = @ownerId'} ORDER BY c.proposedAt ${order}`,
        parameters: [
          { name: '@limit', value: limit },
          { name: '@partitionKey', value: partitionKey },
          ...(ownerId === undefined ? [] : [{ name: '@ownerId', value: ownerId }]),
        ],
      },
      partitionKey,
    );
  }

  editorsWithStatus(status: EditorStatus, limit: number): Promise<EditorView[]> {
    return this.query<EditorView>(
      {
        query: `SELECT TOP @limit * FROM c WHERE c.partitionKey = @partitionKey AND c.type = 'editor' AND c.status = @status ORDER BY c.requestedAt ASC`,
        parameters: [
          { name: '@limit', value: limit },
          { name: '@partitionKey', value: EDITORS_PARTITION },
          { name: '@status', value: status },
        ],
      },
      EDITORS_PARTITION,
    );
  }

  regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]> {
    if (regions.length === 0) return Promise.resolve([]);
    return this.query<RegionForecastView>(
      {
        query: `SELECT * FROM c WHERE c.partitionKey = @partitionKey AND ARRAY_CONTAINS(@ids, c.id)`,
        parameters: [
          { name: '@partitionKey', value: REGION_FORECASTS_PARTITION },
          { name: '@ids', value: regions.map((region) => `region-${region}`) },
        ],
      },
      REGION_FORECASTS_PARTITION,
    );
  }

  async regionRefreshStates(): Promise<RegionRefreshState[]> {
    // Only the fields the plan needs (a region's hourly forecast is tens of kilobytes), and the
    // regions' demand documents from the same partition in the same query.
    const iterator = (await this.container()).items.query<RefreshStateRow>(
      {
        query:
          'SELECT c.type, c.region, c.centre, c.updatedAt, c.latestEvent, c.lastFailure.at AS lastFailedAt, c.lastSearchedAt, c.hours FROM c ' +
          "WHERE c.partitionKey = @partitionKey AND (c.type = 'regionForecast' OR c.type = 'regionDemand')",
        parameters: [{ name: '@partitionKey', value: REGION_FORECASTS_PARTITION }],
      },
      { partitionKey: REGION_FORECASTS_PARTITION, maxItemCount: 1000 },
    );
    const forecasts: RefreshStateRow[] = [];
    const demand = new Map<string, RegionDemand>();
    while (iterator.hasMoreResults()) {
      this.requestCount++;
      const { resources } = await iterator.fetchNext();
      for (const row of resources) {
        if (row.type === 'regionForecast') forecasts.push(row);
        else if (row.lastSearchedAt) demand.set(row.region, { lastSearchedAt: row.lastSearchedAt, hours: row.hours ?? {} });
      }
    }
    return forecasts.flatMap(({ region, centre, updatedAt, latestEvent, lastFailedAt }): RegionRefreshState[] => {
      if (!centre) return [];
      const searches = demand.get(region);
      return [
        {
          region,
          centre,
          updatedAt: updatedAt ?? null,
          ...(latestEvent && { latestEvent }),
          ...(lastFailedAt && { lastFailedAt }),
          ...(searches && { demand: searches }),
        },
      ];
    });
  }

  addSearches(counts: readonly RegionSearchCounts[], now: Date): Promise<void> {
    return this.regionState.addSearches(counts, now);
  }

  callsOn(day: string): Promise<number> {
    return this.regionState.callsOn(day);
  }

  reserveCalls(day: string, calls: number, limit: number): Promise<boolean> {
    return this.regionState.reserveCalls(day, calls, limit);
  }

  releaseCalls(day: string, calls: number): Promise<void> {
    return this.regionState.releaseCalls(day, calls);
  }

  /** Removes every view; the regions' search demand and call ledger stay (they are not derived from events). */
  async clear(): Promise<void> {
    const iterator = (await this.container()).items.query<{ id: string; partitionKey: string }>(
      {
        query: 'SELECT c.id, c.partitionKey FROM c WHERE NOT IS_DEFINED(c.type) OR NOT ARRAY_CONTAINS(@kept, c.type)',
        parameters: [{ name: '@kept', value: [...REGION_STATE_TYPES] }],
      },
      { maxItemCount: 1000 },
    );
    while (iterator.hasMoreResults()) {
      const { resources } = await iterator.fetchNext();
      for (const { id, partitionKey } of resources) await this.remove({ id, partitionKey });
    }
  }

  private async query<T extends ViewDocument>(spec: SqlQuerySpec, partitionKey: string): Promise<T[]> {
    const iterator = (await this.container()).items.query<ItemDefinition>(spec, { partitionKey, maxItemCount: 1000 });
    const found: T[] = [];
    while (iterator.hasMoreResults()) {
      this.requestCount++;
      const { resources } = await iterator.fetchNext();
      found.push(...resources.map((resource) => stripSystemProperties(resource) as T));
    }
    return found;
  }
}

/** A row of the refresh states query: a forecast view's or a demand document's fields. */
interface RefreshStateRow {
  readonly type: 'regionForecast' | 'regionDemand';
  readonly region: string;
  readonly centre?: Geolocation | null;
  readonly updatedAt?: string | null;
  readonly latestEvent?: RegionForecastView['latestEvent'];
  readonly lastFailedAt?: string;
  readonly lastSearchedAt?: string;
  readonly hours?: Record<string, number>;
}

/** A document as the app wrote it, without the properties Cosmos adds. */
export function stripSystemProperties(resource: ItemDefinition): ItemDefinition {
  return Object.fromEntries(Object.entries(resource).filter(([property]) => !SYSTEM_PROPERTIES.includes(property)));
}

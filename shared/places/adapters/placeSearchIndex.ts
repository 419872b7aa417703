import type { Geolocation } from '../../kernel/geolocation';
import type { ViewFeed } from '../../platform/views/viewFeed';
import type { RegionForecastView } from '../../regions/projection/regionForecastDocument';
import type { ManagedList, NewestEntry, StatusEntry } from '../projection/placeDocuments';
import type { NearbyFilter, RankedEntry } from '../application/nearbySearch';
import type { PlaceViews } from '../application/placeViews';
import type { ViewDocument } from '../../platform/views/documents';
import type { StoredView, ViewKey } from '../../platform/views/viewStore';
import { SearchState } from './searchState';

export interface SearchIndexOptions {
  /** Milliseconds since the epoch (tests move it). */
  readonly clock?: () => number;
  /** Within this long of its last read of the feed the index answers as it is (ms). */
  readonly freshMs?: number;
  /** Beyond this, a search waits for the feed to be read first: no answer is older (ms). */
  readonly maxStalenessMs?: number;
  /** After a failed load or feed read, the store answers for this long before the next try, doubling with each failure in a row (ms). */
  readonly retryMs?: number;
  readonly onLoaded?: (loaded: { places: number; documents: number; ms: number }) => void;
  readonly onFeedFailed?: (error: unknown) => void;
}

/**
 * Parents' searches (nearby, newest, and the forecasts of their results) answered from memory: the
 * views are loaded once per instance and then followed through the views container's change feed,
 * so a search costs no store request, or the one feed read that keeps it current. The store stays
 * the source of truth: it answers while the index loads, or when the feed cannot be read.
 *
 * Freshness: a search within `freshMs` of the last feed read is answered at once; up to
 * `maxStalenessMs`, at once while the feed is read for the next; beyond that (an instance idle for a
 * while) it waits for the read. So a place approved, changed or withdrawn is in every answer given
 * more than `maxStalenessMs` after its view was written, and a busy instance reads the feed about
 * once per `freshMs` whatever the number of searches.
 */
export class PlaceSearchIndex implements PlaceViews {
  private state: SearchState | undefined;
  /** When the feed read the index reflects began. */
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;
  private loading: Promise<void> | undefined;
  private loadAgainAt = 0;
  private loadFailures = 0;
  private readAgainAt = 0;
  private feedFailures = 0;
  private loadedRebuildId: string | undefined;
  private readonly clock: () => number;
  private readonly freshMs: number;
  private readonly maxStalenessMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly store: PlaceViews,
    private readonly feed: ViewFeed,
    private readonly options: SearchIndexOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.freshMs = options.freshMs ?? 1_000;
    this.maxStalenessMs = options.maxStalenessMs ?? 2_000;
    this.retryMs = options.retryMs ?? 1_000;
  }

  /** Whether searches are answered from memory yet. */
  get loaded(): boolean {
    return this.state !== undefined;
  }

  /** Starts loading unless loaded (the first search would otherwise); resolves when a load in progress ends. */
  warmUp(): Promise<void> {
    if (!this.state) this.startLoading();
    return this.loading ?? Promise.resolve();
  }

  async nearby(centre: Geolocation, radiusKm: number, filter: NearbyFilter): Promise<Iterable<RankedEntry>> {
    const state = await this.current();
    return state ? state.nearby(centre, radiusKm, filter) : this.store.nearby(centre, radiusKm, filter);
  }

  async newest(limit: number): Promise<NewestEntry[]> {
    const state = await this.current();
    return state ? state.newest(limit) : this.store.newest(limit);
  }

  async regionForecasts(regions: readonly string[]): Promise<RegionForecastView[]> {
    const state = await this.current();
    return state ? state.regionForecasts(regions) : this.store.regionForecasts(regions);
  }

  read<T extends ViewDocument>(key: ViewKey): Promise<StoredView<T> | undefined> {
    return this.store.read<T>(key);
  }

  withStatus(status: ManagedList, limit: number): Promise<StatusEntry[]> {
    return this.store.withStatus(status, limit);
  }

  ownedBy(ownerId: string, limit: number): Promise<StatusEntry[]> {
    return this.store.ownedBy(ownerId, limit);
  }

  /** The state to answer from, current within `maxStalenessMs`; undefined while it loads or when the feed fails (the store answers). */
  private async current(): Promise<SearchState | undefined> {
    const state = this.state;
    if (!state) {
      this.startLoading();
      return undefined;
    }
    const askedAt = this.clock();
    const age = askedAt - this.readAt;
    if (age < this.freshMs) return state;
    // Loading again (after a rebuild), or the feed failed a moment ago: memory while fresh enough, else the store.
    if (this.loading || askedAt < this.readAgainAt) return age < this.maxStalenessMs ? state : undefined;
    const read = this.readFeed(state);
    if (age < this.maxStalenessMs) return state;
    await read;
    // A read already running when this search came may have begun before a change this search must see.
    return askedAt - this.readAt < this.maxStalenessMs ? state : undefined;
  }

  /** One read of the feed at a time; every search that needs it shares it. */
  private readFeed(state: SearchState): Promise<void> {
    if (this.reading) return this.reading;
    const reading = this.applyChanges(state);
    this.reading = reading;
    void reading.finally(() => {
      if (this.reading === reading) this.reading = undefined;
    });
    return reading;
  }

  private async applyChanges(state: SearchState): Promise<void> {
    const startedAt = this.clock();
    try {
      const { documents, caughtUp } = await this.feed.changes();
      state.apply(documents);
      // Only a read to the feed's end makes the state as fresh as the moment it began.
      if (caughtUp) this.readAt = startedAt;
      this.feedFailures = 0;
      // A rebuild cleared the views, and deletions never show in the feed: load them again.
      if (state.rebuildId !== this.loadedRebuildId) this.startLoading();
    } catch (error) {
      this.feedFailures++;
      this.readAgainAt = this.clock() + backoff(this.retryMs, this.feedFailures);
      this.options.onFeedFailed?.(error);
    }
  }

  /** Loads the views into a new state; the one in use (if any) answers until it is replaced. One load at a time. */
  private startLoading(): void {
    if (this.loading || this.clock() < this.loadAgainAt) return;
    const loading = this.load();
    this.loading = loading;
    void loading.finally(() => {
      if (this.loading === loading) this.loading = undefined;
    });
  }

  private async load(): Promise<void> {
    const startedAt = this.clock();
    try {
      const documents = await this.feed.load();
      const state = new SearchState();
      state.apply(documents);
      let readAt = this.clock();
      for (let caughtUp = false; !caughtUp; readAt = this.clock()) {
        const changes = await this.feed.changes();
        state.apply(changes.documents);
        caughtUp = changes.caughtUp;
      }
      this.state = state;
      this.readAt = readAt;
      this.loadedRebuildId = state.rebuildId;
      this.loadFailures = 0;
      this.options.onLoaded?.({ places: state.places, documents: documents.length, ms: this.clock() - startedAt });
    } catch (error) {
      this.loadFailures++;
      this.loadAgainAt = this.clock() + backoff(this.retryMs, this.loadFailures);
      this.options.onFeedFailed?.(error);
    }
  }
}

/** Waits that double with each failure in a row, up to five minutes: a store that is throttling is not asked harder. */
function backoff(firstMs: number, failures: number): number {
  return Math.min(firstMs * 2 ** Math.max(0, failures - 1), 5 * 60_000);
}

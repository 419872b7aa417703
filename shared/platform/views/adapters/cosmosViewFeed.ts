import type { ChangeFeedPullModelIterator, Container, ItemDefinition } from '@azure/cosmos';
import type { ViewDocument } from '../documents';
import type { ViewChanges, ViewFeed } from '../viewFeed';
import { stripSystemProperties } from './cosmosViewStore';
import { containerOf, type ContainerSource } from '../../adapters/cosmosClient';

const PAGE_SIZE = 1_000;

/** Pages one call reads at most: a search waiting on the feed waits for this much, not for a burst of writes to end. */
const PAGES_PER_CALL = 20;

/** The views container's documents and change feed (latest-version mode) through the Cosmos SDK's pull model. */
export class CosmosViewFeed implements ViewFeed {
  /** Reads sent to Cosmos so far (each query page and each feed page). */
  requestCount = 0;
  private iterator: ChangeFeedPullModelIterator<ItemDefinition> | undefined;
  /** Pages read by a call that then failed: handed out by the next call, since the iterator has moved past them. */
  private pending: ViewDocument[] = [];
  private readonly container: () => Promise<Container>;

  /** `partitions`: those `load` reads, each with a partition-scoped query (no query scans the container). */
  constructor(
    container: ContainerSource,
    private readonly partitions: readonly string[],
  ) {
    this.container = containerOf(container);
  }

  async load(): Promise<ViewDocument[]> {
    // A value of the SDK, imported here so that loading this module does not load the SDK.
    const [container, { ChangeFeedStartFrom }] = await Promise.all([this.container(), import('@azure/cosmos')]);
    // The feed is pinned to "now" by reading it to its end before the snapshot: every later change
    // comes through it, whatever the clocks say. What that read finds is kept for the first call.
    const iterator = container.items.getChangeFeedIterator<ItemDefinition>({
      // The SDK's own factory returns a sibling class of the option's declared type (a typing quirk).
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      changeFeedStartFrom: ChangeFeedStartFrom.Now(),
      maxItemCount: PAGE_SIZE,
    });
    this.iterator = iterator;
    this.pending = [];
    for (let caughtUp = false; !caughtUp;) caughtUp = await this.readPages(iterator, Number.POSITIVE_INFINITY);
    const documents: ViewDocument[] = [];
    for (const partitionKey of this.partitions) {
      const query = container.items.query<ItemDefinition>('SELECT * FROM c', { partitionKey, maxItemCount: PAGE_SIZE });
      while (query.hasMoreResults()) {
        this.requestCount++;
        const { resources } = await query.fetchNext();
        for (const resource of resources) documents.push(stripSystemProperties(resource) as ViewDocument);
      }
    }
    return documents;
  }

  async changes(): Promise<ViewChanges> {
    if (!this.iterator) throw new Error('The view feed is read after load().');
    const caughtUp = await this.readPages(this.iterator, PAGES_PER_CALL);
    const documents = this.pending;
    this.pending = [];
    return { documents, caughtUp };
  }

  /** Reads up to `pages` pages into `pending`; true once a read says nothing more has changed. */
  private async readPages(iterator: ChangeFeedPullModelIterator<ItemDefinition>, pages: number): Promise<boolean> {
    for (let page = 0; page < pages; page++) {
      this.requestCount++;
      const response = await iterator.readNext();
      // 304: nothing after the continuation on any range; the iterator keeps its place for the next call.
      if (response.statusCode === 304) return true;
      for (const resource of response.result) this.pending.push(stripSystemProperties(resource) as ViewDocument);
    }
    return false;
  }
}

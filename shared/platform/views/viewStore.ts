import type { ViewDocument } from './documents';

export interface ViewKey {
  readonly id: string;
  readonly partitionKey: string;
}

export interface StoredView<T extends ViewDocument = ViewDocument> {
  readonly document: T;
  /** Opaque version of the stored document, for optimistic concurrency. */
  readonly etag: string;
}

/** `ifMatch`: replace exactly that version; `ifAbsent`: create only; `any`: upsert. */
export type WriteCondition = { readonly ifMatch: string } | 'ifAbsent' | 'any';

/** The document changed (or appeared) since it was read. */
export class ViewWriteConflictError extends Error {
  constructor(readonly key: ViewKey) {
    super(`View ${key.partitionKey}/${key.id} changed since it was read.`);
    this.name = 'ViewWriteConflictError';
  }
}

/** Reads one read-model document by its key: what every feature's queries build on. */
export interface ViewReader {
  read<T extends ViewDocument>(key: ViewKey): Promise<StoredView<T> | undefined>;
}

/**
 * The read models as the projections keep them: documents by key, written under a condition. Each
 * feature's queries have a port of their own (places/application/placeViews.ts,
 * regions/application/regionViews.ts); every adapter honours all three
 * (test/support/viewStoreConformance.ts), each query partition-scoped.
 */
export interface ViewStore extends ViewReader {
  /** Writes a document under a condition; throws {@link ViewWriteConflictError} when it does not hold. */
  write(document: ViewDocument, condition: WriteCondition): Promise<void>;
  /** Removes a document; removing an absent one is not an error. */
  remove(key: ViewKey): Promise<void>;
  /** Removes every document (a rebuild starts from nothing). */
  clear(): Promise<void>;
}

/**
 * What every read-model document in the `views` container has (partition key `/partitionKey`). Each
 * feature's documents also record the stream version they reflect, so a redelivered or stale event
 * is recognised and ignored.
 */
export interface ViewDocumentBase {
  readonly id: string;
  readonly partitionKey: string;
  readonly type: string;
}

/**
 * Atomic transactional batch (container.items.batch), which the emulator runs non-atomically.
 *
 * Wire shape (Cosmos REST): POST /dbs/{db}/colls/{coll}/docs with `x-ms-cosmos-is-batch-request`
 * and `x-ms-cosmos-batch-atomic` set, `x-ms-documentdb-partitionkey` for the whole batch, and a
 * JSON array of operations. Response: one result per operation,
 *   - 200 when every operation succeeded (results carry statusCode, eTag, resourceBody),
 *   - 207 Multi-Status when one failed: that one carries its own status (409, 404, 412, 400...),
 *     every other operation 424 Failed Dependency, and nothing was written.
 * The SDK returns a 207 response to the caller (it only throws for >= 400), so callers read the
 * failing status from `response.result[i].statusCode`.
 *
 * Atomicity: the operations are applied with the emulator's own synchronous operation functions
 * inside a transaction on the container's store and on the change log; on the first failure both
 * are rolled back. Each remembers, on first touch, the previous entry of every key the operations
 * write (document, unique-key index entry, change-feed record), so commit and rollback cost
 * O(operations), whatever the container holds. Nothing between begin and commit/rollback awaits, so
 * no other request (the emulator runs in this process, on this thread) can observe a half-applied
 * batch.
 */
import * as documentOperations from '@vercel/cosmosdb-server/lib/handler/_document-operations';
import { patchOperation } from '@vercel/cosmosdb-server/lib/handler/_patch-operations';
import type { JSONObject, PatchOperation } from '@vercel/cosmosdb-server/lib/types';
import type { ChangeLog, ChangeLogTransaction } from './changeLog';
import {
  beginStoreTransaction,
  parsePartitionKeyJson,
  partitionKeyOf,
  type EmulatorContainer,
  type WorkCounters,
} from './emulatorInternals';

/** Real Cosmos rejects larger batches. */
export const MAX_BATCH_OPERATIONS = 100;

const FAILED_DEPENDENCY = 424;

/** One operation as sent by the SDK (`partitionKey` is JSON such as '["a"]'; it defaults to the batch's). */
export type BatchOperation =
  | {
      readonly operationType: 'Create' | 'Upsert' | 'Replace';
      readonly partitionKey?: string;
      readonly ifMatch?: string;
      readonly resourceBody: JSONObject;
    }
  | { readonly operationType: 'Read' | 'Delete'; readonly partitionKey?: string; readonly ifMatch?: string; readonly id: string }
  | {
      readonly operationType: 'Patch';
      readonly partitionKey?: string;
      readonly ifMatch?: string;
      readonly id: string;
      readonly operations: PatchOperation[];
      readonly condition?: string;
    };

/** One element of the response array (the SDK's OperationResponse). */
export interface BatchOperationResult {
  readonly statusCode: number;
  readonly requestCharge: number;
  readonly eTag?: string;
  readonly resourceBody?: JSONObject;
}

export interface BatchOutcome {
  readonly httpStatus: 200 | 207;
  readonly results: BatchOperationResult[];
}

/** Validate the request body; returns the operations or a message for a 400 response. */
export function parseBatchOperations(body: unknown): BatchOperation[] | { readonly error: string } {
  if (!Array.isArray(body)) return { error: 'A batch body must be a JSON array of operations.' };
  if (body.length === 0) return { error: 'A batch must contain at least one operation.' };
  if (body.length > MAX_BATCH_OPERATIONS) return { error: `A batch may contain at most ${MAX_BATCH_OPERATIONS} operations.` };
  const operations: BatchOperation[] = [];
  for (const [index, raw] of (body as unknown[]).entries()) {
    const operation = parseOperation(raw);
    if (!operation) return { error: `Batch operation ${index} is malformed or of an unsupported type.` };
    operations.push(operation);
  }
  return operations;
}

/**
 * Apply all operations or none. `batchPartitionKey` is the batch's partition key header (valid JSON,
 * see isPartitionKeyJson). The container must have been instrumented (see instrumentContainer).
 * `returnContent` false (header `Prefer: return=minimal`) leaves resourceBody out of write results.
 */
export function executeAtomicBatch(
  container: EmulatorContainer,
  changeLog: ChangeLog,
  batchPartitionKey: string,
  operations: readonly BatchOperation[],
  returnContent: boolean,
  counters?: WorkCounters,
): BatchOutcome {
  const batchKey = parsePartitionKeyJson(batchPartitionKey);
  const store = beginStoreTransaction(container);
  let changes: ChangeLogTransaction;
  try {
    changes = changeLog.begin(container);
  } catch (error) {
    store.rollback();
    throw error;
  }
  const end = (outcome: 'commit' | 'rollback'): void => {
    if (counters) {
      counters.batches += 1;
      counters.batchJournalEntries += store.journalSize() + changes.journalSize();
    }
    if (outcome === 'commit') {
      store.commit();
      changes.commit();
    } else {
      store.rollback();
      changes.rollback();
    }
  };
  let outcome: BatchOutcome;
  try {
    outcome = applyOperations(container, batchPartitionKey, batchKey, operations, returnContent);
  } catch (error) {
    // An unexpected exception from the emulator must not leave earlier operations applied.
    end('rollback');
    throw error;
  }
  end(outcome.httpStatus === 200 ? 'commit' : 'rollback');
  return outcome;
}

/** Apply the operations in order, stopping at the first failure (which the caller rolls back). */
function applyOperations(
  container: EmulatorContainer,
  batchPartitionKey: string,
  batchKey: unknown,
  operations: readonly BatchOperation[],
  returnContent: boolean,
): BatchOutcome {
  const results: BatchOperationResult[] = [];
  for (const [index, operation] of operations.entries()) {
    const { statusCode, body } = applyOperation(container, batchPartitionKey, batchKey, operation);
    if (statusCode >= 400) {
      return {
        httpStatus: 207,
        results: operations.map((_, i) => ({ statusCode: i === index ? statusCode : FAILED_DEPENDENCY, requestCharge: 0 })),
      };
    }
    const withBody = body !== undefined && (returnContent || operation.operationType === 'Read');
    results.push({
      statusCode,
      requestCharge: 1,
      ...(typeof body?._etag === 'string' ? { eTag: body._etag } : {}),
      ...(withBody ? { resourceBody: body } : {}),
    });
  }
  return { httpStatus: 200, results };
}

function applyOperation(
  container: EmulatorContainer,
  batchPartitionKey: string,
  batchKey: unknown,
  operation: BatchOperation,
): { statusCode: number; body?: JSONObject } {
  // Every operation of a batch must target the batch's partition (real Cosmos answers 400).
  if (operation.partitionKey !== undefined && parsePartitionKeyJson(operation.partitionKey) !== batchKey) {
    return { statusCode: 400 };
  }
  const partitionKey = operation.partitionKey ?? batchPartitionKey;
  switch (operation.operationType) {
    case 'Create':
    case 'Upsert':
    case 'Replace': {
      const bodyKey = partitionKeyOf(container, operation.resourceBody);
      if (bodyKey !== undefined && bodyKey !== batchKey) return { statusCode: 400 };
      const input = { partitionKey, ifMatch: operation.ifMatch, resourceBody: operation.resourceBody };
      if (operation.operationType === 'Create') return documentOperations.createOperation(container, input);
      if (operation.operationType === 'Upsert') return documentOperations.upsertOperation(container, input);
      return documentOperations.replaceOperation(container, input);
    }
    case 'Read':
      return documentOperations.readOperation(container, { partitionKey, id: operation.id });
    case 'Delete':
      return documentOperations.deleteOperation(container, { partitionKey, ifMatch: operation.ifMatch, id: operation.id });
    case 'Patch':
      return patchOperation(container, {
        partitionKey,
        ifMatch: operation.ifMatch,
        id: operation.id,
        operations: operation.operations,
        condition: operation.condition,
      });
  }
}

function parseOperation(raw: unknown): BatchOperation | undefined {
  if (!isJsonObject(raw)) return undefined;
  const partitionKey = optionalString(raw.partitionKey);
  const ifMatch = optionalString(raw.ifMatch);
  if (partitionKey === null || ifMatch === null) return undefined;
  if (partitionKey !== undefined && !isPartitionKeyJson(partitionKey)) return undefined;
  const common = { ...(partitionKey === undefined ? {} : { partitionKey }), ...(ifMatch === undefined ? {} : { ifMatch }) };
  const { id, resourceBody } = raw;
  const operationType: unknown = raw.operationType;
  switch (operationType) {
    case 'Create':
    case 'Upsert':
    case 'Replace':
      return isJsonObject(resourceBody) ? { operationType, ...common, resourceBody } : undefined;
    case 'Read':
    case 'Delete':
      return typeof id === 'string' ? { operationType, ...common, id } : undefined;
    case 'Patch': {
      // The SDK sends either { operations, condition? } or a bare array of patch operations.
      const spec: unknown = isJsonObject(resourceBody) ? resourceBody.operations : resourceBody;
      const condition = isJsonObject(resourceBody) ? optionalString(resourceBody.condition) : undefined;
      const operations = Array.isArray(spec) ? (spec as unknown[]).map(parsePatchOperation) : undefined;
      if (typeof id !== 'string' || condition === null || !operations || !everyDefined(operations)) return undefined;
      return { operationType, ...common, id, operations, ...(condition === undefined ? {} : { condition }) };
    }
    default:
      return undefined;
  }
}

const PATCH_OPS = new Set<PatchOperation['op']>(['add', 'set', 'replace', 'remove', 'incr', 'move']);

function parsePatchOperation(raw: unknown): PatchOperation | undefined {
  if (!isJsonObject(raw) || typeof raw.path !== 'string' || typeof raw.op !== 'string') return undefined;
  const op = raw.op as PatchOperation['op'];
  if (!PATCH_OPS.has(op)) return undefined;
  const from = optionalString(raw.from);
  if (from === null) return undefined;
  return { op, path: raw.path, ...('value' in raw ? { value: raw.value } : {}), ...(from === undefined ? {} : { from }) };
}

/** Whether `json` is a partition key in wire form (see parsePartitionKeyJson). */
export function isPartitionKeyJson(json: string): boolean {
  try {
    parsePartitionKeyJson(json);
    return true;
  } catch {
    return false;
  }
}

/** Values from JSON.parse: any non-array object is a JSON object. */
export function isJsonObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** undefined when absent, null when present but not a string. */
function optionalString(value: unknown): string | undefined | null {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : null;
}

function everyDefined<T>(values: (T | undefined)[]): values is T[] {
  return values.every((value) => value !== undefined);
}

import type { LogFields } from '../../platform/logging';

/**
 * The forecast refresh's metrics as log lines in fixed `Name key=value` shapes (docs/operations.md
 * charts them from the `traces` table). Keys are only ever added at the end, never renamed.
 *
 * - `ForecastRefreshBatch`: one per batch activity run (one provider request per batch, normally);
 * - `ForecastRefreshCycle`: one per cycle, written by the orchestrator when the cycle ends (not on replay);
 * - `ForecastRegionFailed`: one per region whose fetch or record failed in a batch.
 */
export const BATCH_METRIC = 'ForecastRefreshBatch';
export const CYCLE_METRIC = 'ForecastRefreshCycle';
export const REGION_FAILED_METRIC = 'ForecastRegionFailed';

export interface LatencySummary {
  readonly requests: number;
  /** Median request time (nearest rank); null when no request was sent. */
  readonly p50Ms: number | null;
  readonly maxMs: number | null;
}

/** Median and maximum of request times, in whole milliseconds. */
export function latencySummary(samples: readonly number[]): LatencySummary {
  if (samples.length === 0) return { requests: 0, p50Ms: null, maxMs: null };
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = sorted[Math.ceil(sorted.length / 2) - 1] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  return { requests: samples.length, p50Ms: Math.round(p50), maxMs: Math.round(max) };
}

export interface BatchMetricInput {
  readonly cycleId: string;
  readonly regions: number;
  readonly updated: number;
  readonly failed: number;
  readonly alreadyRecorded: number;
  readonly providerMs: number;
  readonly requestMs: readonly number[];
}

/** `ForecastRefreshBatch cycle=… regions=… updated=… failed=… alreadyRecorded=… providerMs=… providerRequests=… providerP50Ms=… providerMaxMs=…` */
export function batchMetricFields(batch: BatchMetricInput): LogFields {
  const latency = latencySummary(batch.requestMs);
  return {
    cycle: batch.cycleId,
    regions: batch.regions,
    updated: batch.updated,
    failed: batch.failed,
    alreadyRecorded: batch.alreadyRecorded,
    providerMs: batch.providerMs,
    providerRequests: latency.requests,
    providerP50Ms: latency.p50Ms,
    providerMaxMs: latency.maxMs,
  };
}

export interface CycleMetricInput {
  readonly cycleId: string;
  readonly cycle: number;
  readonly outcome: 'completed' | 'planFailed';
  readonly source: string | null;
  readonly due: number;
  readonly planned: number;
  readonly deferred: number;
  /** Batches planned (each one provider request for Open-Meteo). */
  readonly batches: number;
  readonly updated: number;
  readonly failed: number;
  readonly alreadyRecorded: number;
  readonly providerMs: number;
  readonly requestMs: readonly number[];
  /** From the cycle's start to its end, by the orchestration's clock. */
  readonly cycleMs: number;
  readonly nextRunAt: string | null;
  readonly failedRegions: readonly string[];
  readonly planError?: string;
  /** From the plan (absent when it failed, or was recorded before these existed). */
  readonly searchedDue?: number;
  readonly searchedDeferred?: number;
  readonly retryLater?: number;
  readonly callsToday?: number;
  readonly callLimit?: number;
}

/** `ForecastRefreshCycle cycle=… n=… outcome=… source=… due=… planned=… deferred=… batches=… updated=… failed=… … searchedDue=… callsToday=… callLimit=…` */
export function cycleMetricFields(cycle: CycleMetricInput): LogFields {
  const latency = latencySummary(cycle.requestMs);
  return {
    cycle: cycle.cycleId,
    n: cycle.cycle,
    outcome: cycle.outcome,
    source: cycle.source,
    due: cycle.due,
    planned: cycle.planned,
    deferred: cycle.deferred,
    batches: cycle.batches,
    updated: cycle.updated,
    failed: cycle.failed,
    alreadyRecorded: cycle.alreadyRecorded,
    providerMs: cycle.providerMs,
    providerRequests: latency.requests,
    providerP50Ms: latency.p50Ms,
    providerMaxMs: latency.maxMs,
    cycleMs: cycle.cycleMs,
    nextRunAt: cycle.nextRunAt,
    failedRegions: cycle.failedRegions.length > 0 ? cycle.failedRegions : null,
    planError: cycle.planError,
    searchedDue: cycle.searchedDue,
    searchedDeferred: cycle.searchedDeferred,
    retryLater: cycle.retryLater,
    callsToday: cycle.callsToday,
    callLimit: cycle.callLimit,
  };
}

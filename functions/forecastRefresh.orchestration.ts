import { registerOrchestration, RetryOptions } from '../shared/platform/composition/durableRegistration';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type { z } from 'zod';
import { CYCLE_METRIC, cycleMetricFields, type CycleMetricInput } from '../shared/regions/application/forecastRefreshMetrics';
import type { forecastRefreshCycleSchema } from '../shared/regions/application/forecastRefreshStatus';
import type { BatchOutcome, CyclePlan } from '../shared/regions/application/refreshForecasts';
import { nextCycleAt, type PlannedRegion } from '../shared/regions/domain/refreshPlan';
import { withCorrelation } from '../shared/platform/logging';

/** The one refresh orchestration: a fixed id is what makes it a singleton. */
export const FORECAST_REFRESH_INSTANCE_ID = 'forecast-refresh';
export const FORECAST_REFRESH_ORCHESTRATION = 'forecastRefresh';
export const PLAN_ACTIVITY = 'planForecastRefresh';
export const BATCH_ACTIVITY = 'refreshForecastBatch';

/** Failed regions listed in the status (the count is always complete). */
const LISTED_FAILURES = 20;
/**
 * Characters kept of a listed reason: the extension fails an orchestration whose customStatus is over
 * 16 KB of UTF-16 JSON, and reasons are unbounded (provider and store messages, stack traces). 20 of
 * these fit even if every character were a quote that JSON escapes.
 */
const REASON_CHARS = 150;
/** When a cycle could not even be planned, the next try comes this much later. */
const PLAN_FAILURE_RETRY_MINUTES = 5;

export interface CycleInput {
  readonly cycle: number;
}

/** The orchestration's customStatus: what ops see at GET /api/ops/forecast-refresh (its schema documents it there). */
export type ForecastRefreshStatus = z.output<typeof forecastRefreshCycleSchema>;

export interface ActivityInput {
  readonly cycleId: string;
}

/** One batch (`regions`), or several fetched in turn (`batches`) when the plan says batchesPerActivity. */
export type BatchActivityInput = BatchActivityCommon &
  ({ readonly regions: readonly PlannedRegion[] } | { readonly batches: readonly (readonly PlannedRegion[])[] });

interface BatchActivityCommon extends ActivityInput {
  /** The UTC day the plan counted the batch's fetches on (absent in plans recorded before the call ledger). */
  readonly callsDay?: string;
}

/** Activities retry a few times on a crash (their own HTTP retries are inside); no retryTimeout (durable-js #629). */
function activityRetry(): RetryOptions {
  const retry = new RetryOptions(5_000, 3);
  retry.backoffCoefficient = 2;
  return retry;
}

/**
 * Eternal refresh of every active region's forecast. Each cycle: plan the due regions (an activity
 * reads the views and the settings), fetch them in batches with at most `parallelism` batch
 * activities in flight, keep the tally in customStatus, wait for the next cycle with a durable timer
 * and continue as new, so the history is one cycle long however long it runs.
 */
export const forecastRefreshOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = readCycleInput(context.df.getInput());
  const started = context.df.currentUtcDateTime;
  const cycleId = `${started.toISOString()}#${input.cycle}`;
  let status: ForecastRefreshStatus = {
    cycle: input.cycle,
    cycleId,
    phase: 'planning',
    startedAt: started.toISOString(),
    source: null,
    due: 0,
    planned: 0,
    deferred: 0,
    requests: 0,
    updated: 0,
    failed: 0,
    alreadyRecorded: 0,
    failedRegions: [],
    providerMs: 0,
    nextRunAt: null,
  };
  context.df.setCustomStatus(status);
  // Provider request times of the whole cycle, for its latency percentiles (rebuilt the same on every replay).
  const requestMs: number[] = [];
  /**
   * One summary line per cycle, when it ends. Only on the episode that first gets there: a replay runs
   * this code again, and `isReplaying` (set from the history) is the documented guard against
   * logging twice. It changes no decision, so the orchestrator stays deterministic.
   */
  const logCycleEnd = (outcome: CycleMetricInput['outcome'], ended: ForecastRefreshStatus) => {
    if (context.df.isReplaying) return;
    withCorrelation(context, cycleId).info(
      CYCLE_METRIC,
      cycleMetricFields({
        ...ended,
        cycleId,
        outcome,
        batches: ended.requests,
        requestMs,
        cycleMs: context.df.currentUtcDateTime.getTime() - started.getTime(),
        failedRegions: ended.failedRegions.map(({ region }) => region),
      }),
    );
  };

  let plan: CyclePlan;
  try {
    plan = (yield context.df.callActivityWithRetry(PLAN_ACTIVITY, activityRetry(), { cycleId, at: started.toISOString() })) as CyclePlan;
  } catch (error) {
    // The views could not be read (e.g. Cosmos unavailable): try again soon rather than end the singleton.
    const nextRunAt = nextCycleAt(started, PLAN_FAILURE_RETRY_MINUTES);
    const waiting: ForecastRefreshStatus = {
      ...status,
      phase: 'waiting',
      planError: clip(firstLine(error)),
      nextRunAt: nextRunAt.toISOString(),
    };
    context.df.setCustomStatus(waiting);
    logCycleEnd('planFailed', waiting);
    yield context.df.createTimer(nextRunAt);
    context.df.continueAsNew({ cycle: input.cycle + 1 } satisfies CycleInput);
    return undefined;
  }
  const planned = plan.batches.reduce((sum, batch) => sum + batch.length, 0);
  status = {
    ...status,
    phase: 'fetching',
    source: plan.source,
    due: plan.due,
    planned,
    deferred: plan.deferred,
    requests: plan.batches.length,
    // Absent from plans recorded before there was demand (setCustomStatus leaves undefined out).
    searchedDue: plan.searchedDue,
    searchedDeferred: plan.searchedDeferred,
    retryLater: plan.retryLater,
    callsToday: plan.callsToday,
    callLimit: plan.callLimit,
  };
  context.df.setCustomStatus(status);

  const parallelism = Math.max(1, plan.parallelism);
  // Plans recorded before batchesPerActivity: one batch per activity, as they were run.
  const perActivity = Math.max(1, plan.batchesPerActivity ?? 1);
  const units: (readonly (readonly PlannedRegion[])[])[] = [];
  for (let first = 0; first < plan.batches.length; first += perActivity) units.push(plan.batches.slice(first, first + perActivity));
  for (let first = 0; first < units.length; first += parallelism) {
    const unitsOfWave = units.slice(first, first + parallelism);
    const wave = unitsOfWave.map((batches) => batches.flat());
    const tasks: Task[] = unitsOfWave.map((batches) =>
      context.df.callActivityWithRetry(
        BATCH_ACTIVITY,
        activityRetry(),
        (plan.batchesPerActivity === undefined
          ? { cycleId, regions: batches[0] ?? [], callsDay: plan.callsDay }
          : { cycleId, batches, callsDay: plan.callsDay }) satisfies BatchActivityInput,
      ),
    );
    let outcomes: BatchOutcome[];
    try {
      outcomes = (yield context.df.Task.all(tasks)) as BatchOutcome[];
    } catch (error) {
      // A batch activity crashed through its retries (the activity reports fetch and store failures
      // as outcomes, so this is rare) and Task.all, having no allSettled, failed the wave at once.
      // Batches still running are waited for, one by one (yielding a scheduled task again schedules
      // nothing), so the next wave never overlaps this one and their regions count by their outcome.
      // Crashed batches' regions count as failed, stay due, and the next cycle fetches them.
      const reason = `A batch activity failed: ${firstLine(error)}`;
      for (const task of tasks) {
        if (task.isCompleted) continue;
        try {
          yield task;
        } catch {
          // Counted below as failed.
        }
      }
      outcomes = wave.map((regions, i) => {
        const task = tasks[i];
        if (task?.isCompleted && !task.isFaulted) return task.result as BatchOutcome;
        return { updated: [], alreadyRecorded: [], providerMs: 0, failed: regions.map(({ region }) => ({ region, reason })) };
      });
    }
    status = outcomes.reduce(tally, status);
    for (const outcome of outcomes) requestMs.push(...(outcome.requestMs ?? []));
    context.df.setCustomStatus(status);
  }

  const nextRunAt = nextCycleAt(started, cycleMinutesOf(plan));
  status = { ...status, phase: 'waiting', nextRunAt: nextRunAt.toISOString() };
  context.df.setCustomStatus(status);
  logCycleEnd('completed', status);
  yield context.df.createTimer(nextRunAt);
  context.df.continueAsNew({ cycle: input.cycle + 1 } satisfies CycleInput);
  return undefined;
};

/** Plans recorded in a history before cycles had a setting of their own say only `refreshMinutes`, which was the cycle then. */
function cycleMinutesOf(plan: CyclePlan): number {
  const recorded: Partial<Pick<CyclePlan, 'cycleMinutes'>> = plan;
  return recorded.cycleMinutes ?? plan.refreshMinutes;
}

function tally(status: ForecastRefreshStatus, outcome: BatchOutcome): ForecastRefreshStatus {
  return {
    ...status,
    updated: status.updated + outcome.updated.length,
    failed: status.failed + outcome.failed.length,
    alreadyRecorded: status.alreadyRecorded + outcome.alreadyRecorded.length,
    failedRegions: [...status.failedRegions, ...outcome.failed]
      .slice(0, LISTED_FAILURES)
      .map(({ region, reason }) => ({ region, reason: clip(reason) })),
    providerMs: status.providerMs + outcome.providerMs,
  };
}

/** The first line of a failure: the host appends its details, a whole stack trace. */
function firstLine(error: unknown): string {
  const [summary = ''] = (error instanceof Error ? error.message : String(error)).split('\n');
  return summary.trim();
}

function clip(reason: string): string {
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length > REASON_CHARS ? `${line.slice(0, REASON_CHARS - 1)}…` : line;
}

function readCycleInput(input: unknown): CycleInput {
  if (
    typeof input === 'object' &&
    input !== null &&
    'cycle' in input &&
    typeof input.cycle === 'number' &&
    Number.isInteger(input.cycle) &&
    input.cycle > 0
  )
    return { cycle: input.cycle };
  return { cycle: 1 };
}

registerOrchestration(FORECAST_REFRESH_ORCHESTRATION, forecastRefreshOrchestrator);

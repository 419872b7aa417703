import { z } from 'zod';
import {
  DEFAULT_CALLS_PER_MINUTE,
  DEFAULT_SEARCHED_MAX_AGE_MINUTES,
  demandNoticeMinutes,
  FETCH_LEAD_MINUTES,
  MIN_CYCLE_MINUTES,
} from '../regions/domain/refreshPlan';
import { DEMAND_FLUSH_SECONDS } from '../regions/domain/searchDemand';

/**
 * Every setting the app reads (names are the contract in architecture.md), read once and validated
 * together so that a deployment with several mistakes learns all of them at start.
 */
export interface AppConfig {
  readonly storage: { readonly connectionString?: string; readonly accountName?: string };
  readonly cosmos: { readonly connectionString?: string; readonly accountEndpoint?: string; readonly database: string };
  readonly eventGrid: { readonly topicEndpoint: string; readonly topicKey?: string };
  readonly weather: { readonly provider: 'open-meteo' | 'met-office'; readonly baseUrl: string; readonly metOfficeApiKey?: string };
  readonly forecast: {
    /** How old any active region's forecast may get before the refresh fetches it again. */
    readonly refreshMinutes: number;
    /** Minutes between the starts of two refresh cycles (0 or unset: `refreshMinutes`, so every cycle fetches every region). */
    readonly cycleMinutes: number;
    /** How old the forecast of a region searched in the last 6 h may get (never more than `refreshMinutes`). */
    readonly searchedMaxAgeMinutes: number;
    /** Forecast fetches per day across all regions (a location in a multi-location call counts as one, as Open-Meteo counts it). */
    readonly dailyCallBudget: number;
    /** Forecast fetches the provider allows per minute: the most one cycle fetches, since a cycle's fetches go out within a minute. */
    readonly callsPerMinute: number;
    /** Regions per Open-Meteo request. */
    readonly batchSize: number;
    /** Fetch activities in flight at once. */
    readonly parallelism: number;
  };
  readonly regionPrecision: number;
  readonly geocoderBaseUrl: string;
  /** postcodes.io (UK postcodes → coordinates). */
  readonly postcodesBaseUrl: string;
  /** The host's own name (WEBSITE_HOSTNAME, set by App Service, Core Tools and the devhost): machine keys are checked with it. */
  readonly websiteHostname?: string;
  /** WEBSITE_AUTH_ENABLED: App Service Authentication (or the devhost's emulation of it) signs people in. */
  readonly signInEnabled: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid settings:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_WEATHER_BASE_URL = {
  'open-meteo': 'https://api.open-meteo.com',
  'met-office': 'https://data.hub.api.metoffice.gov.uk/sitespecific/v0',
};

const optionalText = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? 'is missing' : 'must be an http(s) URL') });
const optionalWholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` }),
    )
    .optional();
const wholeNumber = (min: number, max: number, fallback: number) => optionalWholeNumber(min, max).transform((value) => value ?? fallback);

const settingsSchema = z.object({
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__accountName: optionalText,
  COSMOS_CONNECTION: optionalText,
  COSMOS__accountEndpoint: url.optional(),
  COSMOS_DATABASE: z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') })
    .trim()
    .regex(/^[\w-]{1,255}$/, { error: 'must be a database name' }),
  EVENTGRID_TOPIC_ENDPOINT: url,
  EVENTGRID_TOPIC_KEY: optionalText,
  WEATHER_PROVIDER: z.enum(['open-meteo', 'met-office'], { error: 'must be open-meteo or met-office' }).default('open-meteo'),
  WEATHER_BASE_URL: url.optional(),
  MET_OFFICE_API_KEY: optionalText,
  FORECAST_REFRESH_MINUTES: wholeNumber(5, 24 * 60, 60),
  // Short cycles let a searched region be held to an hour without fetching it much more often than
  // that: a region is fetched in the last cycle that can still land it within its target. 0 (or
  // unset): as long as FORECAST_REFRESH_MINUTES, so a deployment that sets only that keeps one cycle
  // per refresh. Never 1: a cycle's fetches may still be landing 2 minutes after it starts.
  FORECAST_CYCLE_MINUTES: optionalWholeNumber(0, 24 * 60).refine(
    (minutes) => minutes === undefined || minutes === 0 || minutes >= MIN_CYCLE_MINUTES,
    { error: `must be 0 (as long as FORECAST_REFRESH_MINUTES) or at least ${MIN_CYCLE_MINUTES}` },
  ),
  FORECAST_SEARCHED_MAX_AGE_MINUTES: wholeNumber(5, 24 * 60, DEFAULT_SEARCHED_MAX_AGE_MINUTES),
  FORECAST_DAILY_CALL_BUDGET: wholeNumber(1, 1_000_000, 5000),
  // Open-Meteo's free tier allows 600 a minute. At most a whole free day's 10,000: a cap that high
  // already never binds for thousands of regions, and a larger one is more likely a typo.
  FORECAST_CALLS_PER_MINUTE: wholeNumber(1, 10_000, DEFAULT_CALLS_PER_MINUTE),
  FORECAST_BATCH_SIZE: wholeNumber(1, 200, 50),
  FORECAST_PARALLELISM: wholeNumber(1, 32, 4),
  REGION_PRECISION: wholeNumber(3, 7, 5),
  GEOCODER_BASE_URL: url.default('https://geocoding-api.open-meteo.com'),
  POSTCODES_BASE_URL: url.default('https://api.postcodes.io'),
  WEBSITE_HOSTNAME: z
    .string()
    .trim()
    .regex(/^([\w.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/, { error: 'must be a host name, with a port if any' })
    .optional(),
  WEBSITE_AUTH_ENABLED: z
    .string()
    .trim()
    .regex(/^(true|false)$/i, { error: 'must be True or False' })
    .optional(),
});

/** Reads and validates the settings; throws a {@link ConfigError} naming every missing or malformed one. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): AppConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const result = settingsSchema.safeParse(present);
  const problems = [
    ...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'settings'} ${issue.message}`)),
    ...crossSettingProblems(present),
  ];
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const s = result.data;
  return {
    storage: {
      ...(s.AzureWebJobsStorage && { connectionString: s.AzureWebJobsStorage }),
      ...(s.AzureWebJobsStorage__accountName && { accountName: s.AzureWebJobsStorage__accountName }),
    },
    cosmos: {
      database: s.COSMOS_DATABASE,
      ...(s.COSMOS_CONNECTION && { connectionString: s.COSMOS_CONNECTION }),
      ...(s.COSMOS__accountEndpoint && { accountEndpoint: s.COSMOS__accountEndpoint }),
    },
    eventGrid: { topicEndpoint: s.EVENTGRID_TOPIC_ENDPOINT, ...(s.EVENTGRID_TOPIC_KEY && { topicKey: s.EVENTGRID_TOPIC_KEY }) },
    weather: {
      provider: s.WEATHER_PROVIDER,
      baseUrl: s.WEATHER_BASE_URL ?? DEFAULT_WEATHER_BASE_URL[s.WEATHER_PROVIDER],
      ...(s.MET_OFFICE_API_KEY && { metOfficeApiKey: s.MET_OFFICE_API_KEY }),
    },
    forecast: {
      refreshMinutes: s.FORECAST_REFRESH_MINUTES,
      cycleMinutes: s.FORECAST_CYCLE_MINUTES || s.FORECAST_REFRESH_MINUTES,
      searchedMaxAgeMinutes: s.FORECAST_SEARCHED_MAX_AGE_MINUTES,
      dailyCallBudget: s.FORECAST_DAILY_CALL_BUDGET,
      callsPerMinute: s.FORECAST_CALLS_PER_MINUTE,
      batchSize: s.FORECAST_BATCH_SIZE,
      parallelism: s.FORECAST_PARALLELISM,
    },
    regionPrecision: s.REGION_PRECISION,
    geocoderBaseUrl: s.GEOCODER_BASE_URL,
    postcodesBaseUrl: s.POSTCODES_BASE_URL,
    ...(s.WEBSITE_HOSTNAME && { websiteHostname: s.WEBSITE_HOSTNAME }),
    signInEnabled: s.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true',
  };
}

/** Rules that involve more than one setting; checked even when single settings are wrong too. */
function crossSettingProblems(settings: Readonly<Record<string, string | undefined>>): string[] {
  const problems: string[] = [];
  if (!settings.AzureWebJobsStorage && !settings.AzureWebJobsStorage__accountName) {
    problems.push('AzureWebJobsStorage is missing (or set AzureWebJobsStorage__accountName)');
  }
  if (!settings.COSMOS_CONNECTION && !settings.COSMOS__accountEndpoint) {
    problems.push('COSMOS_CONNECTION is missing (or set COSMOS__accountEndpoint)');
  }
  if (settings.COSMOS_CONNECTION && !/AccountEndpoint=[^;]+;AccountKey=[^;]+/i.test(settings.COSMOS_CONNECTION)) {
    problems.push('COSMOS_CONNECTION must look like AccountEndpoint=…;AccountKey=…;');
  }
  if (settings.WEATHER_PROVIDER === 'met-office' && !settings.MET_OFFICE_API_KEY) {
    problems.push('MET_OFFICE_API_KEY is required when WEATHER_PROVIDER is met-office');
  }
  problems.push(...forecastTimingProblems(settings));
  return problems;
}

/**
 * The refresh's timings must fit together, or a target can never be kept however large the budget.
 * Judged only when each setting is a whole number (a malformed one is already reported); the
 * messages name every setting involved rather than start with one of them, since any of them may be
 * the one to change.
 */
function forecastTimingProblems(settings: Readonly<Record<string, string | undefined>>): string[] {
  const refresh = wholeNumberOr(settings.FORECAST_REFRESH_MINUTES, 60);
  const cycleSetting = wholeNumberOr(settings.FORECAST_CYCLE_MINUTES, 0);
  const searched = wholeNumberOr(settings.FORECAST_SEARCHED_MAX_AGE_MINUTES, DEFAULT_SEARCHED_MAX_AGE_MINUTES);
  if (refresh === undefined || cycleSetting === undefined || searched === undefined) return [];
  const cycle = cycleSetting || refresh;
  const problems: string[] = [];
  const misfit = 'the forecast refresh settings do not fit together:';
  if (cycle > refresh) {
    problems.push(
      `${misfit} FORECAST_CYCLE_MINUTES (${cycle}) is longer than FORECAST_REFRESH_MINUTES (${refresh}), so a region could wait ` +
        'past its target for the next cycle; make the cycle at most the refresh (or 0: as long as it)',
    );
  }
  const notice = demandNoticeMinutes(cycle);
  if (searched < refresh && !(notice < searched)) {
    const longestCycle = searched - (notice - cycle) - 1;
    const remedy =
      longestCycle >= MIN_CYCLE_MINUTES
        ? `set FORECAST_CYCLE_MINUTES to at most ${longestCycle}, or the searched target above ${notice}`
        : `set the searched target above ${demandNoticeMinutes(MIN_CYCLE_MINUTES)} (with ${MIN_CYCLE_MINUTES}-minute cycles)`;
    problems.push(
      `${misfit} FORECAST_SEARCHED_MAX_AGE_MINUTES (${searched}) cannot be kept: the refresh needs up to ${notice} minutes to hear ` +
        `of a search and land a fetch for it (the demand written within ${DEMAND_FLUSH_SECONDS / 60}, the next cycle within ` +
        `FORECAST_CYCLE_MINUTES = ${cycle}, its fetch within ${FETCH_LEAD_MINUTES}); ${remedy}`,
    );
  }
  return problems;
}

function wholeNumberOr(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

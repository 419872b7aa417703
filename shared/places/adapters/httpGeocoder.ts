import { z } from 'zod';
import {
  DEFAULT_RETRY_POLICY,
  getWithRetry,
  LazyAxios,
  TransientHttpError,
  type RetryHooks,
  type RetryPolicy,
} from '../../platform/outbound/httpRetry';
import {
  splitPostcode,
  GeocoderProtocolError,
  GeocoderUnavailableError,
  type GeocodedPlace,
  type Geocoder,
  type GeocodeResult,
} from '../application/geocoder';

export interface HttpGeocoderOptions {
  /** postcodes.io, e.g. https://api.postcodes.io (POSTCODES_BASE_URL). */
  readonly postcodesBaseUrl: string;
  /** Open-Meteo geocoding, e.g. https://geocoding-api.open-meteo.com (GEOCODER_BASE_URL). */
  readonly placeNamesBaseUrl: string;
  readonly retry?: RetryPolicy;
  readonly hooks?: RetryHooks;
  /** Place-name matches asked for per query (Open-Meteo's `count`). */
  readonly maxCandidates?: number;
}

const latitude = z.number().min(-90).max(90);
const longitude = z.number().min(-180).max(180);

/** postcodes.io `GET /postcodes/{postcode}`: 200 with the postcode's centre (null for a few unlocated ones). */
const postcodeAnswer = z.object({
  status: z.literal(200),
  result: z.object({ postcode: z.string(), latitude: latitude.nullable(), longitude: longitude.nullable(), country: z.string().nullish() }),
});
/** postcodes.io 404: "Invalid postcode" (not a postcode) or "Postcode not found" (unknown or terminated). */
const postcodeMissing = z.object({ status: z.literal(404), error: z.string() });

/** Open-Meteo `GET /v1/search`: no `results` key at all when nothing matched. */
const placeNameAnswer = z.object({
  results: z
    .array(
      z.object({
        name: z.string(),
        latitude,
        longitude,
        country_code: z.string().optional(),
        admin1: z.string().optional(),
      }),
    )
    .optional(),
});

/**
 * The geocoder port over HTTP: postcodes.io for an address with a UK postcode in it, Open-Meteo's
 * geocoding (GeoNames place names) for the rest. Open-Meteo matches place names, not street
 * addresses, so "Chester Zoo, Upton, Chester" is tried whole and then part by part ("Chester Zoo",
 * "Upton", "Chester") until something matches: the first, most specific part that matches wins.
 */
export class HttpGeocoder implements Geocoder {
  private readonly postcodes: LazyAxios;
  private readonly placeNames: LazyAxios;
  private readonly retry: RetryPolicy;
  private readonly hooks: RetryHooks;
  private readonly maxCandidates: number;

  constructor(options: HttpGeocoderOptions) {
    const headers = { accept: 'application/json' };
    this.postcodes = new LazyAxios({ baseURL: options.postcodesBaseUrl, headers });
    this.placeNames = new LazyAxios({ baseURL: options.placeNamesBaseUrl, headers });
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.hooks = options.hooks ?? {};
    this.maxCandidates = options.maxCandidates ?? 10;
  }

  async geocode(address: string): Promise<GeocodeResult> {
    const withPostcode = splitPostcode(address);
    if (withPostcode !== undefined) {
      const found = await this.lookUpPostcode(withPostcode.postcode);
      if (found.kind === 'found') return found;
      // "Town, postcode" with a mistyped postcode: the rest may still name the place. Only a bare
      // postcode is rejected on the postcode alone.
      if (withPostcode.rest.length < 2) return found;
      const byName = await this.searchNames(withPostcode.rest);
      return byName.kind === 'found' ? byName : { kind: 'notFound', reason: `${found.reason}, and ${byName.reason}` };
    }
    return this.searchNames(address);
  }

  private async lookUpPostcode(postcode: string): Promise<GeocodeResult> {
    const response = await this.get(this.postcodes, `/postcodes/${encodeURIComponent(postcode)}`, {});
    if (response.status === 404) {
      const missing = postcodeMissing.safeParse(response.data);
      if (!missing.success) throw new GeocoderProtocolError(`postcodes.io answered 404 without its error body for ${postcode}.`);
      return { kind: 'notFound', reason: `there is no postcode ${postcode} (postcodes.io: ${missing.data.error})` };
    }
    const answer = this.expect(postcodeAnswer, response, 'postcodes.io');
    const { latitude: lat, longitude: lon, country } = answer.result;
    if (lat === null || lon === null) return { kind: 'notFound', reason: `postcode ${postcode} has no known location` };
    return {
      kind: 'found',
      candidates: [
        {
          geolocation: { latitude: lat, longitude: lon },
          label: `${answer.result.postcode}${country ? `, ${country}` : ''}`,
          countryCode: 'GB',
        },
      ],
    };
  }

  private async searchNames(address: string): Promise<GeocodeResult> {
    const parts = address
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length >= 2);
    const queries = [...new Set([address.trim(), ...(parts.length > 1 ? parts : [])])].slice(0, 4);
    for (const name of queries) {
      const response = await this.get(this.placeNames, '/v1/search', { name, count: this.maxCandidates, language: 'en', format: 'json' });
      const answer = this.expect(placeNameAnswer, response, 'the place-name geocoder');
      const candidates: GeocodedPlace[] = (answer.results ?? []).map((result) => ({
        geolocation: { latitude: result.latitude, longitude: result.longitude },
        label: [result.name, result.admin1, result.country_code].filter(Boolean).join(', '),
        ...(result.country_code !== undefined && { countryCode: result.country_code.toUpperCase() }),
      }));
      if (candidates.length > 0) return { kind: 'found', candidates };
    }
    return { kind: 'notFound', reason: `no place matches "${address}"` };
  }

  private async get(client: LazyAxios, url: string, params: Record<string, string | number>) {
    try {
      return await getWithRetry(client, url, params, this.retry, this.hooks);
    } catch (error) {
      if (error instanceof TransientHttpError)
        throw new GeocoderUnavailableError(`The geocoder is unavailable: ${error.message}`, { cause: error });
      throw error;
    }
  }

  private expect<T>(schema: z.ZodType<T>, response: { status: number; data: unknown }, service: string): T {
    if (response.status !== 200)
      throw new GeocoderProtocolError(`${service} answered HTTP ${response.status}, which is neither an answer nor a passing fault.`);
    const parsed = schema.safeParse(response.data);
    if (!parsed.success)
      throw new GeocoderProtocolError(
        `${service} answered 200 with an unexpected body: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    return parsed.data;
  }
}

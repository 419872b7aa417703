import { type Geolocation } from '../../kernel/geolocation';

/** One place a geocoder matched to an address. */
export interface GeocodedPlace {
  readonly geolocation: Geolocation;
  /** What matched, for logs and reasons (e.g. "M3 4FP" or "Chester, England, GB"). */
  readonly label: string;
  /** ISO 3166-1 alpha-2, when the geocoder says. */
  readonly countryCode?: string;
}

/**
 * A definite answer about an address: the places it may be (best first), or that there is none.
 * Faults are not answers: they are thrown.
 */
export type GeocodeResult =
  { readonly kind: 'found'; readonly candidates: readonly GeocodedPlace[] } | { readonly kind: 'notFound'; readonly reason: string };

/**
 * Turns an address (a UK postcode, a place name, or a short address containing either) into
 * coordinates.
 *
 * Implementations resolve only with definite answers ("no such postcode", "nothing matched"); a
 * fault that may pass (network, time-out, 5xx, 429 after retries) rejects with
 * {@link GeocoderUnavailableError}, and a fault of ours (a 4xx that is not an answer, a malformed
 * response) with another error, so that no place is ever rejected because a service was down.
 */
export interface Geocoder {
  geocode(address: string): Promise<GeocodeResult>;
}

/** The geocoder could not be asked just now; asking again later may work. */
export class GeocoderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GeocoderUnavailableError';
  }
}

/** The geocoder answered in a way that is neither an answer nor a passing fault (a bug or a changed API). */
export class GeocoderProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GeocoderProtocolError';
  }
}

const POSTCODE = /\b(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b/i;

/**
 * The UK postcode in an address, normalised to upper case with one space before the inward code
 * ("m34fp" → "M3 4FP"), and the rest of the address without it; undefined when there is none.
 */
export function splitPostcode(address: string): { postcode: string; rest: string } | undefined {
  const match = POSTCODE.exec(address);
  if (!match?.[1]) return undefined;
  const compact = match[1].replace(/\s+/g, '').toUpperCase();
  const rest = `${address.slice(0, match.index)} ${address.slice(match.index + match[1].length)}`
    .replace(/\s+/g, ' ')
    .replace(/^[\s,]+|[\s,]+$/g, '')
    .replace(/\s*,(\s*,)+/g, ',');
  return { postcode: `${compact.slice(0, -3)} ${compact.slice(-3)}`, rest };
}

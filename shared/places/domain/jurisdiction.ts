import { type Geolocation } from '../../kernel/geolocation';
import { inRing, type Ring } from './serviceArea';

/**
 * Whose clock and public holidays a place keeps: what opening hours are read in. The country and
 * state are the ones the `opening_hours` library names its holiday calendars by.
 */
export interface Jurisdiction {
  readonly countryCode: 'gb' | 'ie' | 'im' | 'je' | 'gg';
  /** The nation within the UK ('' elsewhere): its bank holidays differ. */
  readonly state: '' | 'England' | 'Scotland' | 'Wales' | 'Northern Ireland';
  readonly timeZone: 'Europe/London' | 'Europe/Dublin';
}

const LONDON = 'Europe/London';

/**
 * The jurisdiction of a point in the service area, from coarse outlines drawn through the seas and
 * along simplified borders (a few kilometres out at worst). Near a land border the answer may be
 * the neighbour's: the clocks agree everywhere here, and the holiday calendars differ by a day or
 * two a year, so a coarse outline costs little and needs no geocoder.
 */
export function jurisdictionOf({ latitude, longitude }: Geolocation): Jurisdiction {
  const at = (ring: Ring) => inRing(ring, longitude, latitude);
  if (at(JERSEY)) return { countryCode: 'je', state: '', timeZone: LONDON };
  if (at(GUERNSEY)) return { countryCode: 'gg', state: '', timeZone: LONDON };
  if (at(ISLE_OF_MAN)) return { countryCode: 'im', state: '', timeZone: LONDON };
  if (at(IRELAND)) {
    return at(NORTHERN_IRELAND)
      ? { countryCode: 'gb', state: 'Northern Ireland', timeZone: LONDON }
      : { countryCode: 'ie', state: '', timeZone: 'Europe/Dublin' };
  }
  if (at(WALES)) return { countryCode: 'gb', state: 'Wales', timeZone: LONDON };
  if (latitude > scottishBorderLatitude(longitude)) return { countryCode: 'gb', state: 'Scotland', timeZone: LONDON };
  return { countryCode: 'gb', state: 'England', timeZone: LONDON };
}

/** Where a place is unknown (a proposal not yet located): the most common case. */
export const ENGLAND: Jurisdiction = { countryCode: 'gb', state: 'England', timeZone: LONDON };

const JERSEY: Ring = [
  [-2.27, 49.15],
  [-1.98, 49.15],
  [-1.98, 49.28],
  [-2.27, 49.28],
];
const GUERNSEY: Ring = [
  [-2.72, 49.4],
  [-2.1, 49.4],
  [-2.1, 49.76],
  [-2.72, 49.76],
];
const ISLE_OF_MAN: Ring = [
  [-4.9, 54.0],
  [-4.25, 54.0],
  [-4.25, 54.45],
  [-4.9, 54.45],
];

/** The island of Ireland, through the Irish Sea and the North Channel (Kintyre and Islay stay out, Rathlin in). */
const IRELAND: Ring = [
  [-11.0, 51.2],
  [-11.0, 55.5],
  [-8.5, 55.5],
  [-7.0, 55.45],
  [-6.0, 55.35],
  [-5.6, 54.9],
  [-5.3, 54.3],
  [-5.8, 53.0],
  [-6.0, 52.0],
  [-6.3, 51.2],
];

/** Northern Ireland: the border from Carlingford Lough round Fermanagh to Lough Foyle, simplified. */
const NORTHERN_IRELAND: Ring = [
  [-6.1, 54.0],
  [-6.6, 54.05],
  [-7.0, 54.1],
  [-7.3, 54.15],
  [-7.6, 54.15],
  [-8.0, 54.3],
  [-8.18, 54.45],
  [-7.75, 54.6],
  [-7.55, 54.75],
  [-7.45, 54.95],
  [-7.25, 55.05],
  [-7.0, 55.25],
  [-6.0, 55.35],
  [-5.6, 54.9],
  [-5.3, 54.3],
];

/** Wales: the Bristol Channel's middle, the border from the Severn to the Dee, and the sea round Anglesey. */
const WALES: Ring = [
  [-5.6, 51.37],
  [-3.5, 51.37],
  [-3.1, 51.42],
  [-2.65, 51.62],
  [-2.85, 51.9],
  [-3.15, 52.1],
  [-3.0, 52.35],
  [-3.15, 52.55],
  [-3.0, 52.9],
  [-2.73, 53.0],
  [-2.93, 53.17],
  [-3.05, 53.25],
  [-3.3, 53.45],
  [-4.2, 53.5],
  [-4.8, 53.45],
  [-5.5, 52.8],
];

/** The Anglo-Scottish border from the Solway Firth to Berwick, west to east, as [longitude, latitude]. */
const SCOTTISH_BORDER: Ring = [
  [-3.6, 54.85],
  [-3.06, 54.99],
  [-2.8, 55.14],
  [-2.6, 55.28],
  [-2.48, 55.36],
  [-2.15, 55.47],
  [-2.25, 55.65],
  [-2.03, 55.81],
  [-1.5, 55.9],
];

/** North of this latitude is Scotland: the border between its ends, the Solway (54.6° N) west of it, the sea east. */
function scottishBorderLatitude(longitude: number): number {
  const first = SCOTTISH_BORDER[0] ?? [-3.6, 54.85];
  const last = SCOTTISH_BORDER[SCOTTISH_BORDER.length - 1] ?? [-1.5, 55.9];
  if (longitude < first[0]) return 54.6;
  if (longitude >= last[0]) return last[1];
  for (let i = 1; i < SCOTTISH_BORDER.length; i++) {
    const [x1, y1] = SCOTTISH_BORDER[i] ?? last;
    const [x0, y0] = SCOTTISH_BORDER[i - 1] ?? first;
    // The border doubles back near Coldstream; the first segment spanning the longitude is the one that matters here.
    if ((longitude >= x0 && longitude <= x1) || (longitude <= x0 && longitude >= x1))
      return y0 + ((y1 - y0) * (longitude - x0)) / (x1 - x0);
  }
  return last[1];
}

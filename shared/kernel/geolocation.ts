import { z } from 'zod';

/** Where something is on the Earth, in WGS 84 degrees: the one notion of place every feature shares. */
const numericString = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A coordinate as a JSON number or, as the original system accepted, a numeric string. */
const coordinate = (min: number, max: number) =>
  z
    .union([z.number(), z.string().regex(numericString).transform(Number)], {
      error: 'must be a number (or a numeric string)',
    })
    .pipe(
      z
        .number({ error: 'must be a finite number' })
        .min(min, { error: `must be ≥ ${min}` })
        .max(max, { error: `must be ≤ ${max}` }),
    );

export const geolocationSchema = z.strictObject(
  { latitude: coordinate(-90, 90), longitude: coordinate(-180, 180) },
  { error: 'must be an object {latitude, longitude}' },
);
export type Geolocation = z.output<typeof geolocationSchema>;

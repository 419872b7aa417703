/**
 * Plausible, deterministic weather for the local Open-Meteo server: every value is a pure function of
 * (latitude, longitude, hour), so two processes, or two runs a week apart, answer the same for the
 * same place and hour. Built from smooth value noise (no state, no randomness), so neighbouring hours
 * and places differ a little, not wildly, and weather systems drift eastwards as they do over the UK.
 */

export const HOURLY_VARIABLES = [
  'temperature_2m',
  'precipitation_probability',
  'precipitation',
  'weather_code',
  'wind_speed_10m',
  'wind_gusts_10m',
  'uv_index',
] as const;
export type HourlyVariable = (typeof HOURLY_VARIABLES)[number];

/** One hour at one place, in the API's default units (°C, %, mm, WMO code, km/h, UV index). */
export type WeatherHour = Record<HourlyVariable, number>;

// Local bindings: under a vm sandbox (jest) every lookup of the global `Math` is slow, and this is the
// hot path of every forecast answer.
const { PI, abs, cos, floor, imul, max, min, round, sin } = Math;

const HOUR_MS = 60 * 60 * 1000;
const YEAR_DAYS = 365.25;
const DEG = PI / 180;
/** Wetness above which it rains or snows (about one hour in six over the year). */
const WET = 0.63;

/** Elevation in metres, as the API reports it beside each location (a smooth made-up terrain). */
export function elevationAt(latitude: number, longitude: number): number {
  const terrain = noise(latitude / 0.3, longitude / 0.45, 0, 7);
  return round(clamp(terrain - 0.25, 0, 1) * 450);
}

/** The weather at a place for the hour starting at `hourStart` (a whole UTC hour). */
export function weatherAt(latitude: number, longitude: number, hourStart: Date): WeatherHour {
  const t = hourStart.getTime() / HOUR_MS;
  const hourUtc = hourStart.getUTCHours();
  const dayOfYear = (hourStart.getTime() - Date.UTC(hourStart.getUTCFullYear(), 0, 1)) / (24 * HOUR_MS);
  const solarHour = (((hourUtc + longitude / 15) % 24) + 24) % 24;
  const elevation = elevationAt(latitude, longitude);
  // +1 in high summer, −1 in midwinter; flipped south of the equator.
  const season = cos((2 * PI * (dayOfYear - 201)) / YEAR_DAYS) * (latitude < 0 ? -1 : 1);

  // Fronts and showers are sampled at a longitude that moves with time, so they travel eastwards.
  const drift = t / 40;
  const wetness = fbm(latitude / 1.2, longitude / 1.8 - drift, t / 14, 2) + 0.04 * -season;
  const cloud = clamp(0.6 + 1.5 * (wetness - 0.5) + (fbm(latitude / 0.9, longitude / 1.3 - drift, t / 8, 3) - 0.5) * 1.4, 0, 1);
  const convection = fbm(latitude / 0.5, longitude / 0.7 - drift, t / 4, 5);
  const windiness = fbm(latitude / 2.5, longitude / 3.5 - drift, t / 20, 4);

  const annualMean = clamp(10.5 - 0.55 * (abs(latitude) - 52.5), -25, 27);
  const diurnalAmplitude = (3 + (season + 1)) * (1 - 0.5 * cloud);
  const temperature =
    annualMean +
    6 * season +
    diurnalAmplitude * cos((2 * PI * (solarHour - 15)) / 24) +
    (fbm(latitude / 3, longitude / 4.5, t / 60, 1) - 0.5) * 12 -
    2 * max(0, wetness - 0.55) -
    0.0065 * elevation;

  const probability = round(clamp((wetness - 0.33) / 0.4, 0, 1) * 100);
  const showery = convection > 0.62;
  let precipitation = 0;
  if (wetness > WET) {
    precipitation = 0.1 + 4 * ((wetness - WET) / (1 - WET)) ** 1.5 + (showery ? (convection - 0.62) * 8 : 0);
  }
  precipitation = roundTo(precipitation, 1);

  const exposure = clamp((abs(latitude) - 50) * 0.8 + max(0, -longitude - 3), 0, 8);
  const wind =
    (4 + 40 * max(0, windiness - 0.2) ** 1.3 + 10 * max(0, wetness - 0.5) + exposure) * (1 + 0.15 * cos((2 * PI * (solarHour - 14)) / 24));
  const gust = wind * (1.35 + 0.35 * noise(latitude / 0.4, longitude / 0.6, t / 3, 6)) + 2 + (showery ? (convection - 0.62) * 25 : 0);

  const roundedTemperature = roundTo(temperature, 1);
  const code = weatherCode({
    temperature: roundedTemperature,
    precipitation,
    cloud,
    showery,
    thundery: convection > 0.76 && roundedTemperature > 10 && precipitation >= 1,
    foggy:
      (solarHour >= 21 || solarHour < 10) &&
      wind < 10 &&
      wetness > 0.3 &&
      wetness <= WET &&
      fbm(latitude / 0.8, longitude / 1.0, t / 10, 8) > 0.66,
  });

  return {
    temperature_2m: roundedTemperature,
    precipitation_probability: precipitation > 0 ? max(probability, 75) : min(probability, 74),
    precipitation,
    weather_code: code,
    wind_speed_10m: roundTo(wind, 1),
    wind_gusts_10m: roundTo(max(gust, wind), 1),
    uv_index: uvIndex(latitude, longitude, hourStart, dayOfYear, cloud),
  };
}

interface CodeInputs {
  readonly temperature: number;
  readonly precipitation: number;
  readonly cloud: number;
  readonly showery: boolean;
  readonly thundery: boolean;
  readonly foggy: boolean;
}

/** The WMO code for the hour; wet codes only when it precipitates, snow only when it is cold. */
function weatherCode({ temperature, precipitation, cloud, showery, thundery, foggy }: CodeInputs): number {
  if (precipitation > 0) {
    if (temperature < 0.5) {
      if (showery) return precipitation < 1 ? 85 : 86;
      return precipitation < 0.5 ? 71 : precipitation < 1.5 ? 73 : 75;
    }
    if (thundery) return 95;
    if (showery) return precipitation < 1 ? 80 : precipitation < 4 ? 81 : 82;
    if (precipitation < 0.3) return precipitation < 0.2 ? 51 : 53;
    return precipitation < 1 ? 61 : precipitation < 4 ? 63 : 65;
  }
  if (foggy) return temperature < 0 ? 48 : 45;
  return cloud < 0.2 ? 0 : cloud < 0.45 ? 1 : cloud < 0.75 ? 2 : 3;
}

/** Clear-sky UV from the sun's elevation at the middle of the hour, dimmed by cloud; 0 with the sun down. */
function uvIndex(latitude: number, longitude: number, hourStart: Date, dayOfYear: number, cloud: number): number {
  const declination = 23.44 * DEG * sin((2 * PI * (284 + dayOfYear)) / 365);
  const hourAngle = 15 * DEG * (hourStart.getUTCHours() + 0.5 + longitude / 15 - 12);
  const phi = latitude * DEG;
  const sinElevation = sin(phi) * sin(declination) + cos(phi) * cos(declination) * cos(hourAngle);
  if (sinElevation <= 0) return 0;
  return round(9.5 * sinElevation ** 2.2 * (1 - 0.55 * cloud ** 1.5) * 20) / 20;
}

/** Two octaves of value noise, in [0, 1). */
function fbm(x: number, y: number, z: number, channel: number): number {
  return (2 * noise(x, y, z, channel) + noise(x * 2.1 + 17.3, y * 2.1 - 5.1, z * 2.1 + 3.7, channel + 100)) / 3;
}

/** Smooth 3-D value noise in [0, 1): lattice values from an integer hash, blended with smoothstep. */
function noise(x: number, y: number, z: number, channel: number): number {
  const x0 = floor(x);
  const y0 = floor(y);
  const z0 = floor(z);
  const fx = fade(x - x0);
  const fy = fade(y - y0);
  const fz = fade(z - z0);
  const at = (dx: number, dy: number, dz: number) => lattice(x0 + dx, y0 + dy, z0 + dz, channel);
  return lerp(
    lerp(lerp(at(0, 0, 0), at(1, 0, 0), fx), lerp(at(0, 1, 0), at(1, 1, 0), fx), fy),
    lerp(lerp(at(0, 0, 1), at(1, 0, 1), fx), lerp(at(0, 1, 1), at(1, 1, 1), fx), fy),
    fz,
  );
}

function lerp(a: number, b: number, f: number): number {
  return a + (b - a) * f;
}

function fade(f: number): number {
  return f * f * (3 - 2 * f);
}

/** A well-mixed 32-bit hash of a lattice point: the same on every platform, as it is integer-only. */
function lattice(a: number, b: number, c: number, channel: number): number {
  let h = imul(channel ^ 0x9e3779b9, 0x85ebca77);
  h = mix(h, a);
  h = mix(h, b);
  h = mix(h, c);
  h = imul(h ^ (h >>> 16), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function mix(h: number, k: number): number {
  const x = imul(h ^ k, 0xcc9e2d51);
  return imul((x << 13) | (x >>> 19), 0x1b873593);
}

function clamp(value: number, low: number, high: number): number {
  return min(high, max(low, value));
}

function roundTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return round(value * factor) / factor;
}

import type { AgeRange, PlaceKind, Price, Weather } from './api.js';

export const KIND_LABELS: Readonly<Record<PlaceKind, string>> = { indoor: 'Indoor', outdoor: 'Outdoor', mixed: 'Indoor & outdoor' };

export const WEATHER_LABELS: Readonly<Record<Weather, string>> = {
  clear: 'Sunny',
  partlyCloudy: 'Partly cloudy',
  cloudy: 'Cloudy',
  fog: 'Fog',
  drizzle: 'Drizzle',
  rain: 'Rain',
  snow: 'Snow',
  thunder: 'Thunderstorms',
};

export const FACILITY_LABELS: Readonly<Record<string, string>> = {
  pushchair: 'Pushchair friendly',
  babyChange: 'Baby change',
  accessibleToilet: 'Accessible toilet',
  toilets: 'Toilets',
  parking: 'Parking',
  cafe: 'Café',
  picnicArea: 'Picnic area',
  playground: 'Playground',
  nursingRoom: 'Nursing room',
  dogFriendly: 'Dog friendly',
};

export function distanceText(km: number): string {
  if (km < 1) return `${Math.max(50, Math.round((km * 1000) / 50) * 50)} m`;
  return `${km < 10 ? km.toFixed(1) : Math.round(km)} km`;
}

export function agesText(range: AgeRange): string {
  if (range.min === 0 && range.max >= 18) return 'All ages';
  if (range.min === 0) return `Ages up to ${range.max}`;
  return `Ages ${range.min}–${range.max}`;
}

export function priceText(price: Price): string {
  if (price.free) return 'Free';
  const parts = [
    price.adultGBP === undefined ? '' : `adults £${price.adultGBP.toFixed(2)}`,
    price.childGBP === undefined ? '' : `children £${price.childGBP.toFixed(2)}`,
  ].filter(Boolean);
  return parts.length > 0 ? `Paid: ${parts.join(', ')}` : 'Paid entry';
}

const dayAndTime = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
});
const timeOnly = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

/** "14:00" today, "Sat 29 Nov, 10:00" on another day. */
export function whenText(at: Date, now = new Date()): string {
  return at.toDateString() === now.toDateString() ? `today at ${timeOnly.format(at)}` : dayAndTime.format(at);
}

/** "today", "yesterday", "3 days ago", or the date. */
export function agoText(iso: string, now = new Date()): string {
  const days = Math.floor((now.getTime() - Date.parse(iso)) / 86_400_000);
  if (days <= 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days < 30) return `${days} days ago`;
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(iso));
}

/**
 * Places are in Great Britain and Ireland (the service area), all on London's clock: their times are
 * shown in it whatever the device's own zone, since that is the time on the door when you arrive.
 */
const PLACE_TIME_ZONE = 'Europe/London';
const placeParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: PLACE_TIME_ZONE,
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

interface PlaceClock {
  readonly weekday: string;
  readonly date: string;
  readonly time: string;
}

/** An instant as the place's clock shows it; built from parts so browsers' punctuation cannot differ. */
function placeClock(at: Date): PlaceClock {
  const parts = placeParts.formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return { weekday: part('weekday'), date: `${part('day')} ${part('month')}`, time: `${part('hour')}:${part('minute')}` };
}

/** "Mon 10:00"; with the date ("Mon 21 Dec, 10:00") when a weekday alone could mean this week or the next. */
export function opensText(iso: string, after: Date): string {
  const at = new Date(iso);
  const clock = placeClock(at);
  return at.getTime() - after.getTime() >= 6 * 86_400_000
    ? `${clock.weekday} ${clock.date}, ${clock.time}`
    : `${clock.weekday} ${clock.time}`;
}

const placeDate = new Intl.DateTimeFormat('en-GB', { timeZone: PLACE_TIME_ZONE, year: 'numeric', month: 'numeric', day: 'numeric' });

/** Days from `from`'s date to `to`'s, on the places' clock (a calendar count, not 24-hour periods). */
function daysApart(from: Date, to: Date): number {
  const date = (at: Date) => {
    const parts = placeDate.formatToParts(at);
    const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
    return Date.UTC(part('year'), part('month') - 1, part('day'));
  };
  return Math.round((date(to) - date(from)) / 86_400_000);
}

/**
 * "Today 10:00–13:00", "Tomorrow …", "Sat 10:00–13:00"; a week ahead, the date too ("Mon 14 Dec 10:00–13:00"),
 * since a week from now shares today's weekday. An end on another day keeps its weekday ("Sat 18:00–Sun 02:00").
 */
export function spanText(startIso: string, endIso: string, now: Date): string {
  const startAt = new Date(startIso);
  const start = placeClock(startAt);
  const end = placeClock(new Date(endIso));
  const ahead = daysApart(now, startAt);
  const day = ahead === 0 ? 'Today' : ahead === 1 ? 'Tomorrow' : ahead >= 7 ? `${start.weekday} ${start.date}` : start.weekday;
  const sameDay = start.weekday === end.weekday && start.date === end.date;
  // A window that runs to midnight ends "24:00" of its own day, as opening hours are written.
  const endsAtMidnight = !sameDay && end.time === '00:00' && Date.parse(endIso) - startAt.getTime() <= 86_400_000;
  const endText = sameDay ? end.time : endsAtMidnight ? '24:00' : `${end.weekday} ${end.time}`;
  return `${day} ${start.time}–${endText}`;
}

const calendarDay = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' });

/** "Mon 7 Dec" for a local date ('2026-12-07') and its weekday as the API gives them. */
export function dayText(date: string, weekday: string): string {
  const [year, month, day] = date.split('-').map(Number);
  if (year === undefined || month === undefined || day === undefined) return `${weekday} ${date}`;
  return `${weekday} ${calendarDay.format(new Date(Date.UTC(year, month - 1, day)))}`;
}

/** A 0–1 score out of ten, as the pages show every score. */
export function outOfTen(score: number): number {
  return Math.round(score * 10);
}

const moment = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });

/** "3 Jan 2026, 10:00", on the reader's own clock: when someone did something. */
export function momentText(iso: string): string {
  return moment.format(new Date(iso));
}

/** Who did something, as people read it: a person's name, or "a script" for one of the host's keys. */
export function actorText(actor: { readonly id: string; readonly name: string }): string {
  return actor.id.startsWith('key:') ? 'a script' : actor.name;
}

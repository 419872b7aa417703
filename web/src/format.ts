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

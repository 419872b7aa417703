import { z } from 'zod';

/**
 * Before opening hours were OpenStreetMap syntax, events stored them as an object of days
 * (`{monday: [{opens, closes}], …, notes}`). Events are never rewritten, so readers turn that shape
 * into the syntax as they read it (an upcast): the listed hours stay open, a day left out was
 * closed, and an empty object said nothing (no hours). Notes were free text, often exceptions
 * ("closed 24–26 Dec"), so they become the fallback comment (`|| "notes"`): the listed hours stay
 * known to be open, and the rest is unknown with the editor's words rather than claimed closed.
 */
const DAYS = [
  ['monday', 'Mo'],
  ['tuesday', 'Tu'],
  ['wednesday', 'We'],
  ['thursday', 'Th'],
  ['friday', 'Fr'],
  ['saturday', 'Sa'],
  ['sunday', 'Su'],
] as const;

const interval = z.object({ opens: z.string(), closes: z.string() });
const legacyShape = z.object({
  monday: z.array(interval).optional(),
  tuesday: z.array(interval).optional(),
  wednesday: z.array(interval).optional(),
  thursday: z.array(interval).optional(),
  friday: z.array(interval).optional(),
  saturday: z.array(interval).optional(),
  sunday: z.array(interval).optional(),
  notes: z.string().optional(),
});
export type LegacyOpeningHours = z.output<typeof legacyShape>;

/** The syntax for the old shape: consecutive days with the same hours share a rule (`Mo-Fr 10:00-17:00`). */
export function legacyOpeningHoursToSyntax(legacy: LegacyOpeningHours): string | undefined {
  const rules: { days: string[]; times: string }[] = [];
  let previous: string | undefined;
  for (const [day, abbreviation] of DAYS) {
    const intervals = legacy[day];
    const times = intervals && intervals.length > 0 ? intervals.map(({ opens, closes }) => `${opens}-${closes}`).join(',') : undefined;
    const last = rules[rules.length - 1];
    if (times !== undefined && times === previous && last) last.days.push(abbreviation);
    else if (times !== undefined) rules.push({ days: [abbreviation], times });
    previous = times;
  }
  const dayRange = (days: string[]) => (days.length > 2 ? `${days[0]}-${days[days.length - 1]}` : days.join(','));
  const syntax = rules.map(({ days, times }) => `${dayRange(days)} ${times}`).join('; ');
  const notes = legacy.notes?.trim().replace(/"/g, "'");
  if (!notes) return syntax || undefined;
  return syntax ? `${syntax} || "${notes}"` : `"${notes}"`;
}

/** Opening hours as stored in an event or view: the syntax as recorded (not checked again), or the old shape turned into it. */
export const storedOpeningHoursSchema = z.union([z.string(), legacyShape.transform(legacyOpeningHoursToSyntax)]);

/** The stored value as the syntax, for views written before the change (undefined stays undefined). */
export function openingHoursAsSyntax(stored: unknown): string | undefined {
  if (stored === undefined || stored === null) return undefined;
  const parsed = storedOpeningHoursSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

/** At-least-once delivery as tests play it: items in batches of 1–7, in a shuffled order, from a seeded generator. */

/** Splits items, in order, into batches of 1 to 7 (as a change feed or a queue hands them over). */
export function batches<T>(items: readonly T[], random: () => number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length;) {
    const size = 1 + Math.floor(random() * 7);
    result.push(items.slice(i, i + size));
    i += size;
  }
  return result;
}

/** The items in a random order (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

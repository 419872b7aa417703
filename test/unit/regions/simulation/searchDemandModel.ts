import { seededRandom } from '../../../../local/seededRandom';

/**
 * Parents' searches over simulated days: mostly in the day, skewed towards a few popular regions that
 * lie together in towns, each search answered with places from up to {@link RESULT_REGIONS} regions.
 */
export interface DemandModel {
  /** Searches per day, all regions together. */
  readonly searchesPerDay: number;
  /** How many regions take most of the searches, with Zipf-like weights 1/rank^zipfExponent. */
  readonly popularRegions: number;
  readonly zipfExponent: number;
  /**
   * Popular regions lie in towns of this many regions (the most popular town holds the
   * `townRegions` most popular regions, and so on): a search in one finds places in its neighbours.
   */
  readonly townRegions: number;
  /** The share of searches on some other region, picked uniformly (the tail). */
  readonly tailShare: number;
  readonly seed: number;
}

export interface SimulatedSearch {
  readonly at: number;
  /** The distinct regions of the first {@link RESULT_REGIONS} results, the searched one first: the ones the search notes. */
  readonly regions: readonly string[];
  readonly popular: boolean;
}

/** The nearby search notes the region of its first result (functions/nearbyPlaces.http.ts). */
export const RESULT_REGIONS = 1;

/**
 * The weight of each UTC hour (the UK in winter): parents plan between 07:00 and 21:00, most in the
 * morning; a few search late in the evening or at night.
 */
const HOUR_WEIGHTS = [
  0.02, 0.01, 0.01, 0.01, 0.01, 0.03, 0.2, 1.3, 1.6, 1.5, 1.1, 1, 1, 0.9, 0.9, 1, 1.1, 1.2, 1.2, 1.1, 0.9, 0.4, 0.15, 0.05,
] as const;
const WEIGHT_PER_DAY = HOUR_WEIGHTS.reduce((sum, weight) => sum + weight, 0);

/** Every search from `start` to `end` (ms), in time order: deterministic for a seed. */
export function simulatedSearches(regions: readonly string[], model: DemandModel, start: number, end: number): SimulatedSearch[] {
  const random = seededRandom(model.seed);
  const shuffled = [...regions];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
  }
  const popular = shuffled.slice(0, model.popularRegions);
  const others = shuffled.slice(model.popularRegions);
  const weights = popular.map((_, rank) => 1 / Math.pow(rank + 1, model.zipfExponent));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const pickPopular = (): number => {
    let left = random() * totalWeight;
    for (let rank = 0; rank < popular.length; rank++) {
      left -= weights[rank] ?? 0;
      if (left <= 0) return rank;
    }
    return popular.length - 1;
  };
  /** `count` distinct members of `pool` other than `except`, at random. */
  const pickOthers = (pool: readonly string[], except: string, count: number): string[] => {
    const candidates = pool.filter((region) => region !== except);
    const picked: string[] = [];
    while (picked.length < count && candidates.length > 0)
      picked.push(candidates.splice(Math.floor(random() * candidates.length), 1)[0] as string);
    return picked;
  };

  const searches: SimulatedSearch[] = [];
  const hour = 3_600_000;
  for (let from = Math.floor(start / hour) * hour; from < end; from += hour) {
    const expected = (model.searchesPerDay * (HOUR_WEIGHTS[new Date(from).getUTCHours()] ?? 0)) / WEIGHT_PER_DAY;
    // Whole searches, with the fraction decided by chance, so a quiet hour still sees the odd search.
    const count = Math.floor(expected) + (random() < expected % 1 ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const at = from + random() * hour;
      const tail = random() < model.tailShare;
      let searched: string[];
      if (tail) {
        // Somewhere off the beaten track: its neighbours are any regions, as likely as not unsearched too.
        const region = others[Math.floor(random() * others.length)] as string;
        searched = [region, ...pickOthers(regions, region, RESULT_REGIONS - 1)];
      } else {
        const rank = pickPopular();
        const town = Math.floor(rank / model.townRegions) * model.townRegions;
        const region = popular[rank] as string;
        searched = [region, ...pickOthers(popular.slice(town, town + model.townRegions), region, RESULT_REGIONS - 1)];
      }
      if (at >= start && at < end) searches.push({ at, regions: searched, popular: !tail });
    }
  }
  return searches.sort((a, b) => a.at - b.at);
}

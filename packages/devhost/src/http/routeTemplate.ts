/**
 * Route templates as the Functions host (ASP.NET routing) matches them: literal segments
 * (case-insensitive), `{name}`, optional `{name?}`, constrained `{name:int}` (also alpha, bool,
 * guid, long, double…), and a catch-all `{*rest}`. Literal segments outrank parameters when two
 * templates match the same path.
 */
export interface RouteTemplate {
  readonly template: string;
  /** Higher wins: literal segments first, then constrained, then plain parameters. */
  readonly precedence: number;
  match(path: string): Record<string, string> | undefined;
}

type Segment =
  { kind: 'literal'; text: string } | { kind: 'parameter'; name: string; optional: boolean; constraint?: string; catchAll: boolean };

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  double: /^-?\d+(\.\d+)?$/,
  float: /^-?\d+(\.\d+)?$/,
  decimal: /^-?\d+(\.\d+)?$/,
  bool: /^(true|false)$/i,
  alpha: /^[a-z]+$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  datetime: /^\d{4}-\d{2}-\d{2}/,
};

export function compileRouteTemplate(template: string): RouteTemplate {
  const segments: Segment[] = template
    .split('/')
    .filter(Boolean)
    .map((part) => {
      const parameter = /^\{(\*)?([A-Za-z_]\w*)(?::([a-z]+))?(\?)?\}$/.exec(part);
      if (!parameter) {
        if (part.includes('{')) throw new Error(`Route template "${template}" has a segment the devhost cannot read: ${part}`);
        return { kind: 'literal', text: part.toLowerCase() };
      }
      const [, star, name = '', constraint, optional] = parameter;
      if (constraint && !CONSTRAINTS[constraint]) throw new Error(`Route template "${template}" uses an unknown constraint :${constraint}`);
      return { kind: 'parameter', name, optional: optional === '?', catchAll: star === '*', ...(constraint && { constraint }) };
    });
  const precedence = segments.reduce((score, segment, i) => {
    const weight = segment.kind === 'literal' ? 3 : segment.constraint ? 2 : 1;
    return score + weight * 10 ** (8 - Math.min(i, 8));
  }, 0);

  return {
    template,
    precedence,
    match(path) {
      const parts = path.split('/').filter(Boolean).map(safeDecode);
      const params: Record<string, string> = {};
      let i = 0;
      for (const segment of segments) {
        const part = parts[i];
        if (segment.kind === 'literal') {
          if (part?.toLowerCase() !== segment.text) return undefined;
          i++;
          continue;
        }
        if (segment.catchAll) {
          params[segment.name] = parts.slice(i).join('/');
          i = parts.length;
          continue;
        }
        if (part === undefined) {
          if (segment.optional) continue;
          return undefined;
        }
        const constraint = segment.constraint ? CONSTRAINTS[segment.constraint] : undefined;
        if (constraint && !constraint.test(part)) return undefined;
        params[segment.name] = part;
        i++;
      }
      return i === parts.length ? params : undefined;
    },
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * A function's response cookies (the worker's RpcHttpCookie list) as the host writes them: each goes
 * to ASP.NET Core's `Response.Cookies.Append(name, value, options)`, which escapes the name and the
 * value (Uri.EscapeDataString), writes the attributes in SetCookieHeaderValue's order and lower case,
 * and takes the path "/" when none is given (CookieOptions' default). RPC's `sameSite: 'none'` means
 * "not set" (no attribute); `'explicitNone'` is `SameSite=None`.
 */
export interface RpcHttpCookie {
  readonly name?: string | null;
  readonly value?: string | null;
  readonly domain?: { readonly value?: string | null } | null;
  readonly path?: { readonly value?: string | null } | null;
  readonly expires?: { readonly value?: { readonly seconds?: number | string | null } | null } | null;
  readonly secure?: { readonly value?: boolean | null } | null;
  readonly httpOnly?: { readonly value?: boolean | null } | null;
  readonly sameSite?: string | null;
  readonly maxAge?: { readonly value?: number | null } | null;
}

const SAME_SITE: Readonly<Record<string, string>> = { lax: 'lax', strict: 'strict', explicitNone: 'none' };

/** RFC 3986 percent-encoding, as .NET's Uri.EscapeDataString (which also escapes ! ' ( ) *). */
function escapeDataString(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function setCookieHeader(cookie: RpcHttpCookie): string {
  const parts = [`${escapeDataString(cookie.name ?? '')}=${escapeDataString(cookie.value ?? '')}`];
  const expiresSeconds = cookie.expires?.value?.seconds;
  if (expiresSeconds !== undefined && expiresSeconds !== null)
    parts.push(`expires=${new Date(Number(expiresSeconds) * 1000).toUTCString()}`);
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === 'number') parts.push(`max-age=${Math.trunc(maxAge)}`);
  const domain = cookie.domain?.value;
  if (domain) parts.push(`domain=${domain}`);
  parts.push(`path=${cookie.path?.value || '/'}`);
  if (cookie.secure?.value === true) parts.push('secure');
  const sameSite = SAME_SITE[cookie.sameSite ?? ''];
  if (sameSite !== undefined) parts.push(`samesite=${sameSite}`);
  if (cookie.httpOnly?.value === true) parts.push('httponly');
  return parts.join('; ');
}

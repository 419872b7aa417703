/** What the Azure SDKs' failed requests carry (RestError and its look-alikes), read without trusting their types. */

/** The HTTP status of a failed request. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number') return error.statusCode;
  return undefined;
}

/** The service's error code (`x-ms-error-code`) of a failed request. */
export function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** An error as a log line shows it. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

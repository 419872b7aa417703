/** Reading what the Functions worker returns from an invocation, and what it throws. */
import { isRecord } from './protocol';

/** The JSON text of a function's return value as the worker sends it (RpcTypedData). */
export function typedDataJson(data: unknown): string | undefined {
  if (!isRecord(data)) return undefined;
  if (typeof data.json === 'string') return data.json;
  if (typeof data.string === 'string') return JSON.stringify(data.string);
  if (typeof data.int === 'number' || typeof data.double === 'number') return String(data.int ?? data.double);
  if (data.bytes instanceof Uint8Array) return JSON.stringify(Buffer.from(data.bytes).toString('base64'));
  return undefined;
}

export function errorText(error: unknown): { text: string; stack?: string } {
  if (error instanceof Error) return { text: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  return { text: typeof error === 'string' ? error : JSON.stringify(error) };
}

export function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

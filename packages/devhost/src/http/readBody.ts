import type { IncomingMessage } from 'node:http';

/** Reads a request body up to `limit` bytes; a larger one is drained and reported. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > limit) {
    request.resume();
    return Promise.resolve('tooLarge');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > limit ? 'tooLarge' : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

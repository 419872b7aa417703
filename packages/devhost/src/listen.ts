import type { Server } from 'node:net';

/** Listens on `port` (0 for a free one) at `host`; resolves with the port taken, rejects when it cannot (a port in use). */
export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address && typeof address === 'object') resolve(address.port);
      else reject(new Error('The server has no TCP address'));
    });
  });
}

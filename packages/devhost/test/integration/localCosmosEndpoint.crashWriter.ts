/**
 * Child process of the persistence crash test (localCosmosEndpoint.persistence.test.ts), run with
 * `node -r ts-node/register/transpile-only`: starts a persistent endpoint on a directory and appends
 * transactional batches of two documents, several at a time, until it is killed.
 *
 *   argv: <persistDir> <round> <compactAfterBytes>
 *   stdout: `ready` once the container exists, then `ok <batch>` for each batch the endpoint
 *           acknowledged (written after the response arrived, so the test knows it was durable).
 * Batch n of round r creates `r<r>-b<n>:1` and `r<r>-b<n>:2` in partition `r<r>-b<n>`.
 */
import { BulkOperationType, CosmosClient } from '@azure/cosmos';
import { localCosmosClientOptions, startLocalCosmosEndpoint } from '../../src/cosmos/localCosmosEndpoint';

const IN_FLIGHT = 8;

async function main(): Promise<void> {
  const [persistDir, round = '1', compactAfterBytes = '65536'] = process.argv.slice(2);
  if (persistDir === undefined) throw new Error('usage: crashWriter <persistDir> <round> <compactAfterBytes>');
  const endpoint = await startLocalCosmosEndpoint({ persistDir, compactAfterBytes: Number(compactAfterBytes) });
  const client = new CosmosClient(localCosmosClientOptions(endpoint));
  const { database } = await client.databases.createIfNotExists({ id: 'crash' });
  const { container } = await database.containers.createIfNotExists({ id: 'docs', partitionKey: { paths: ['/pk'] } });
  process.stdout.write('ready\n');

  let next = 1;
  const worker = async (): Promise<void> => {
    for (;;) {
      const batch = `r${round}-b${next++}`;
      const response = await container.items.batch(
        [1, 2].map((i) => ({ operationType: BulkOperationType.Create, resourceBody: { id: `${batch}:${i}`, pk: batch, batch } })),
        batch,
      );
      if (response.code !== 200) throw new Error(`batch ${batch} failed with ${response.code ?? '?'}`);
      process.stdout.write(`ok ${batch}\n`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

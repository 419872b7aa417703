import type { Container } from '@azure/cosmos';
import type { DeadLetter, DeadLetterStore } from '../deadLetters';
import { containerOf, type ContainerSource } from '../../adapters/cosmosClient';

/** Dead letters in the Cosmos `deadletters` container (partition key `/streamId`). */
export class CosmosDeadLetterStore implements DeadLetterStore {
  private readonly container: () => Promise<Container>;

  constructor(container: ContainerSource) {
    this.container = containerOf(container);
  }

  async record(letter: DeadLetter): Promise<void> {
    try {
      await (await this.container()).items.create(letter);
    } catch (error) {
      // Already recorded by an earlier delivery of the same event.
      if ((error as { code?: unknown }).code !== 409) throw error;
    }
  }
}

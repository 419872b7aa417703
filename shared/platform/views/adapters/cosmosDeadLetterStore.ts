import type { Container } from '@azure/cosmos';
import type { DeadLetter, DeadLetterStore } from '../deadLetters';

/** Dead letters in the Cosmos `deadletters` container (partition key `/streamId`). */
export class CosmosDeadLetterStore implements DeadLetterStore {
  constructor(private readonly container: Container) {}

  async record(letter: DeadLetter): Promise<void> {
    try {
      await this.container.items.create(letter);
    } catch (error) {
      // Already recorded by an earlier delivery of the same event.
      if ((error as { code?: unknown }).code !== 409) throw error;
    }
  }
}

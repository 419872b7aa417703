import { NO_STREAM } from '../../shared/platform/eventSourcing/eventStore';
import { InMemoryEventStore } from '../../shared/platform/eventSourcing/adapters/inMemoryEventStore';
import { describeEventStoreConformance, newEvent } from '../support/eventStoreConformance';

// The in-memory store keeps streams as gapless arrays, so no event can be planted ahead of one;
// its own all-or-nothing test below fails the second event another way.
describeEventStoreConformance('in-memory', { store: () => new InMemoryEventStore() });

describe('in-memory event store', () => {
  it('applies a multi-event append whose second event cannot be stored not at all', async () => {
    const store = new InMemoryEventStore();
    const unstorable = newEvent('B', { callback: () => 'functions are not data' });
    await expect(store.append('s', [newEvent('A'), unstorable], NO_STREAM)).rejects.toThrow();
    await expect(store.read('s')).resolves.toEqual([]);
  });
});

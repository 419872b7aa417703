import type { Decider } from '../../shared/kernel/decider';
import type { Event } from '../../shared/kernel/event';

/**
 * Given/when/then for deciders: given past events, when a command is decided, then these events
 * (or none, or this error).
 */
export const DeciderSpecification = {
  for<Command, State, E extends Event>(decider: Decider<Command, State, E>) {
    return {
      given(history: readonly E[]) {
        return {
          when(command: Command) {
            const decide = () => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
            return {
              then(expected: readonly E[]): void {
                expect(decide()).toEqual(expected);
              },
              thenNothingHappens(): void {
                expect(decide()).toEqual([]);
              },
              thenThrows(errorType: new (...args: never[]) => Error, message?: RegExp): void {
                expect(decide).toThrow(errorType);
                if (message) expect(decide).toThrow(message);
              },
            };
          },
        };
      },
    };
  },
};

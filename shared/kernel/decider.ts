import type { Event } from './event';

/**
 * The functional core of an aggregate: `decide` turns a command and the current state into new events
 * (or throws a DomainError), `evolve` folds one event into state. Both are pure.
 */
export interface Decider<Command, State, E extends Event> {
  readonly decide: (command: Command, state: State) => readonly E[];
  readonly evolve: (state: State, event: E) => State;
  readonly initialState: () => State;
}

/** Folds events into state from the decider's initial state. */
export function fold<Command, State, E extends Event>(decider: Decider<Command, State, E>, events: Iterable<E>): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/**
 * Which of the Functions host's keys a machine presented: `admin` for the master key, `function` for
 * a function or host key, `undefined` for none of them. The host is the authority on its keys, so an
 * adapter asks the host (adapters/hostKeyCheck.ts); tests use a fixed list.
 */
export interface MachineKeyCheck {
  levelOf(key: string): Promise<'function' | 'admin' | undefined>;
}

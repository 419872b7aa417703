import type { StartStage } from './startUp';

const STAGE_LABELS: Record<StartStage['name'], string> = {
  storage: 'storage',
  cosmos: 'Cosmos DB',
  app: 'app',
  functions: 'functions',
  eventGrid: 'Event Grid',
  durable: 'durable',
  http: 'HTTP',
  triggers: 'triggers',
};

/** One start-up line: the stage, what it started and how long it took (the devhost's and the emulators' alike). */
export function printStage(stage: StartStage): void {
  console.log(`  ${STAGE_LABELS[stage.name].padEnd(12)}${stage.detail} (${Math.round(stage.ms)} ms)`);
}

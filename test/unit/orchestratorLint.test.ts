import { join } from 'node:path';
import { lint, type LintReport } from '../support/eslintRunner';

/*
 * The snippets are linted as if they were functions/__linttest*.ts: a path the config's
 * `functions/**\/*.orchestration.ts` block matches, but no file on disk (see support/eslintRunner.ts).
 */

const root = join(__dirname, '..', '..');
const ORCHESTRATION_PATH = 'functions/__linttest.orchestration.ts';
const PLAIN_FUNCTION_PATH = 'functions/__linttest.ts';
const REAL_ORCHESTRATOR = 'functions/forecastRefresh.orchestration.ts';

const violations: readonly { name: string; code: string; rules: readonly string[] }[] = [
  { name: 'Date.now()', code: 'export const at = Date.now();\n', rules: ['no-restricted-globals'] },
  { name: 'new Date()', code: 'export const at = new Date();\n', rules: ['no-restricted-globals'] },
  { name: 'globalThis.Date.now()', code: 'export const at = globalThis.Date.now();\n', rules: ['no-restricted-globals'] },
  { name: 'crypto.randomUUID()', code: 'export const id = crypto.randomUUID();\n', rules: ['no-restricted-globals'] },
  { name: 'performance.now()', code: 'export const at = performance.now();\n', rules: ['no-restricted-globals'] },
  { name: 'const { env } = process', code: 'const { env } = process;\nexport const setting = env.X;\n', rules: ['no-restricted-globals'] },
  { name: 'Math.random()', code: 'export const pick = Math.random();\n', rules: ['no-restricted-syntax'] },
  { name: 'process.env.X', code: 'export const setting = process.env.X;\n', rules: ['no-restricted-globals'] },
  {
    name: "import axios from 'axios'",
    code: "import axios from 'axios';\n\nexport const client = axios;\n",
    rules: ['no-restricted-imports'],
  },
  { name: 'setTimeout', code: 'setTimeout(() => undefined, 1_000);\n', rules: ['no-restricted-globals'] },
];

/** An orchestrator done right: time from the context, arithmetic from a pure helper. */
const CLEAN_ORCHESTRATOR = `import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { nextCycleAt } from '../shared/regions/domain/refreshPlan';

export const lintProbe: OrchestrationHandler = function* (context: OrchestrationContext) {
  yield context.df.createTimer(nextCycleAt(context.df.currentUtcDateTime, 5));
  context.df.continueAsNew({ cycle: 2 });
  return undefined;
};

df.app.orchestration('lintProbe', lintProbe);
`;

/** Only a type-aware rule reports this: proof that the snippets get the full, typed lint. */
const FLOATING_PROMISE = 'Promise.resolve(1);\n';

describe('the lint rule that keeps orchestrator files replay-safe', () => {
  let report: LintReport;

  // One ESLint process for every case: building the type-aware program is most of the time.
  beforeAll(async () => {
    report = await lint(
      [
        ...violations.map(({ code }) => ({ code, filePath: ORCHESTRATION_PATH })),
        ...violations.map(({ code }) => ({ code, filePath: PLAIN_FUNCTION_PATH })),
        { code: CLEAN_ORCHESTRATOR, filePath: ORCHESTRATION_PATH },
        { code: FLOATING_PROMISE, filePath: ORCHESTRATION_PATH },
      ],
      [REAL_ORCHESTRATOR],
    );
  }, 120_000);

  it.each(violations.map((violation, index) => [violation.name, violation, index] as const))(
    'reports %s in an orchestrator file',
    (_name, violation, index) => {
      const messages = report.snippets[index]!;
      expect(new Set(messages.map(({ ruleId }) => ruleId))).toEqual(new Set(violation.rules));
      for (const { message } of messages) expect(message).toMatch(/Orchestrators (replay|wait|do no I\/O|read no settings)/);
    },
  );

  it.each(violations.map((violation, index) => [violation.name, index] as const))(
    'leaves %s alone outside orchestrator files',
    (_name, index) => {
      expect(report.snippets[violations.length + index]).toEqual([]);
    },
  );

  it('passes an orchestrator that takes its time from the context (type-aware rules included)', () => {
    expect(report.snippets[2 * violations.length]).toEqual([]);
  });

  it('lints the snippets with type information, as the real files are', () => {
    expect(report.snippets[2 * violations.length + 1]?.map(({ ruleId }) => ruleId)).toEqual(['@typescript-eslint/no-floating-promises']);
  });

  it(`passes ${REAL_ORCHESTRATOR}`, () => {
    expect(report.files).toEqual([{ filePath: join(root, REAL_ORCHESTRATOR), errorCount: 0, warningCount: 0, messages: [] }]);
  });
});

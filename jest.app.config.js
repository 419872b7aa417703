/**
 * The app's own tests (test/), as a jest project: `npm test` runs it beside the devhost package's
 * (jest.config.js). The devhost is imported from its sources (functions-devhost → packages/devhost/src),
 * so one copy of its modules, the '@azure/functions-core' stand-in included, serves every test.
 * @type {import('jest').Config}
 */
const ESM_ONLY = ['kdbush', 'geokdbush', 'tinyqueue'];

module.exports = {
  displayName: 'app',
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // The spatial index ships as ES modules only; Node 20.19+ requires them natively, jest (before Node 24.9) does not.
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: ['ts-jest', { tsconfig: { allowJs: true }, isolatedModules: true }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Load, fault and fuzz suites take longer than the rest together: `npm run test:reliability` (jest.reliability.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  // Apps the tests copy and run (each with its package.json) are not modules of the tests.
  modulePathIgnorePatterns: ['<rootDir>/test-artifacts/', '<rootDir>/packages/devhost/test-artifacts/'],
  moduleNameMapper: {
    // The Functions worker supplies '@azure/functions-core'; tests supply the devhost's stand-in, which records registrations.
    '^@azure/functions-core$': '<rootDir>/packages/devhost/src/functionsCore.ts',
    '^functions-devhost$': '<rootDir>/packages/devhost/src/index.ts',
    '^functions-devhost/(.*)$': '<rootDir>/packages/devhost/src/$1',
  },
  // End-to-end tests drive the compiled app through the devhost: build it once first.
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  // A file's changes to process.env end with it (packages/devhost/test/support/isolateEnv.ts).
  setupFilesAfterEnv: ['<rootDir>/packages/devhost/test/support/isolateEnv.ts'],
  testTimeout: 30000,
};

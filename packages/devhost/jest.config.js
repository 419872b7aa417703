/** @type {import('jest').Config} */
module.exports = {
  displayName: 'devhost',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Copies of the fixture apps (with their package.json) run there; the fixtures themselves are the modules.
  modulePathIgnorePatterns: ['<rootDir>/test-artifacts/'],
  // The Functions worker supplies '@azure/functions-core'; in-process tests use the devhost's stand-in.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/src/functionsCore.ts' },
  // End-to-end tests run the compiled CLI (dist/main.js): build it once first.
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  // A file's changes to process.env end with it (see isolateEnv.ts).
  setupFilesAfterEnv: ['<rootDir>/test/support/isolateEnv.ts'],
  testTimeout: 30000,
};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Load, fault and fuzz suites take longer than the rest together: `npm run test:reliability` (jest.reliability.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/reliability/'],
  // The Functions worker supplies '@azure/functions-core'; tests supply a stand-in that records registrations.
  moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/devhost/functionsCore.ts' },
  // End-to-end tests drive the compiled app through the devhost: build it once first.
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  testTimeout: 30000,
};

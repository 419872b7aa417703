const base = require('./jest.app.config.js');

/**
 * `npm run test:reliability`: load, fault and fuzz tests (test/reliability/), kept out of `npm test`
 * because they take minutes. Same ts-jest set-up and build (globalSetup) as the app's tests (jest.app.config.js). One file
 * at a time: each drives a devhost hard, and a neighbour's load would distort another's figures.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  displayName: 'reliability',
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 15 * 60_000,
};

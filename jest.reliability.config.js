const base = require('./jest.config.js');

/**
 * `npm run test:reliability`: load, fault and fuzz tests (test/reliability/), kept out of `npm test`
 * because they take minutes. Same ts-jest set-up and build (globalSetup) as jest.config.js. One file
 * at a time: each drives a devhost hard, and a neighbour's load would distort another's figures.
 */
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
  testTimeout: 15 * 60_000,
};

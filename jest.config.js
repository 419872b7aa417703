/**
 * `npm test`: the app's tests (jest.app.config.js) and the devhost package's own
 * (packages/devhost/jest.config.js, which also run on their own with `npm test -w functions-devhost`).
 * @type {import('jest').Config}
 */
module.exports = {
  projects: ['<rootDir>/jest.app.config.js', '<rootDir>/packages/devhost/jest.config.js'],
  // A global option: jest reads no project's testTimeout when it runs several projects, so both
  // projects' 30 s applied only when each ran alone, and here every test had jest's default 5 s.
  testTimeout: 30000,
};

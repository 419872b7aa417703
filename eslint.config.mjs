// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Folders that hold the pure domain: no Azure SDKs, no settings, no clock, no randomness. */
const domainFolders = ['shared/kernel/**/*.ts', 'shared/*/domain/**/*.ts', 'shared/*/projection/**/*.ts'];

const impureSyntax = [
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: 'The domain reads no settings: pass values in from shared/platform/config.',
  },
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'The domain has no clock: time arrives in the command.',
  },
  {
    selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
    message: 'The domain has no clock: time arrives in the command.',
  },
  {
    selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
    message: 'The domain has no randomness: ids arrive in the command.',
  },
];

/**
 * Orchestrator code is replayed, so it must decide the same way every time: no clock, no randomness,
 * no settings, no I/O. Time comes from context.df.currentUtcDateTime, settings and I/O from activities.
 */
const orchestratorFiles = ['functions/**/*.orchestration.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.devhost/**', 'web/**/*.js', 'jest.config.js', 'jest.reliability.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      // Arrow shorthands that call void functions read fine; the rule only adds braces.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: domainFolders,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@azure/*', 'durable-functions', 'axios'], message: 'The domain is pure: adapters live outside it.' },
            { group: ['node:*', 'fs', 'http', 'https', 'crypto', 'os', 'child_process'], message: 'The domain does no I/O.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', ...impureSyntax],
    },
  },
  {
    files: orchestratorFiles,
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Date', message: 'Orchestrators replay: use context.df.currentUtcDateTime (and pure helpers for arithmetic).' },
        { name: 'setTimeout', message: 'Orchestrators wait with context.df.createTimer.' },
        { name: 'setInterval', message: 'Orchestrators wait with context.df.createTimer.' },
        { name: 'fetch', message: 'Orchestrators do no I/O: call an activity.' },
        { name: 'process', message: 'Orchestrators read no settings or process state: an activity returns what they need.' },
        { name: 'crypto', message: 'Orchestrators replay: ids must come from the input or context.df.newGuid.' },
        { name: 'performance', message: 'Orchestrators replay: use context.df.currentUtcDateTime.' },
        { name: 'globalThis', message: 'Orchestrators replay: no reaching round the rules through globalThis.' },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['axios', '@azure/*', '!@azure/functions'], message: 'Orchestrators do no I/O: call an activity.' },
            { group: ['node:*', 'fs', 'http', 'https', 'crypto', 'os', 'child_process'], message: 'Orchestrators do no I/O: call an activity.' },
            { group: ['**/appServices', '**/config'], message: 'Orchestrators read no settings: an activity returns what they need.' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
          message: 'Orchestrators replay: no randomness (ids from the input or context.df.newGuid).',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // jest's asymmetric matchers (expect.any, expect.objectContaining) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    // The pages' scripts run in the browser (typed by web/tsconfig.json, which has the DOM and no Node).
    files: ['web/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Plain-Node scripts that run before dependencies are installed (prestart, pretest): CommonJS, no types.
    files: ['scripts/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);

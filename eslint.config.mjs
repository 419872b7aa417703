// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Entry files and handlers: the app runs under any host. */
const HOST_INDEPENDENT = {
  group: ['**/devhost', '**/devhost/**', 'functions-devhost', 'functions-devhost/**', '**/local', '**/local/**'],
  message: 'The app runs under any host: it may not import the devhost or the local stand-ins.',
};

/** The pure domain (kernel, features' domains and projections) has no settings, no clock, no randomness. */
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

/** Pure code imports no SDK and does no I/O. */
const purePatterns = [
  { group: ['@azure/*', 'durable-functions', 'axios'], message: 'The domain is pure: adapters live outside it.' },
  { group: ['node:*', 'fs', 'http', 'https', 'crypto', 'os', 'child_process'], message: 'The domain does no I/O.' },
];

const FEATURES = ['places', 'regions', 'editors'];

/**
 * Which way dependencies point in shared/, as import patterns each kind of folder may not use. Every
 * folder imports only folders of a lower rank, so no import loop between folders can form:
 *   kernel < a feature's domain < its projection < platform ports (eventSourcing, views, publishing,
 *   http, outbound, config, logging) < a feature's application (use cases and the ports they own)
 *   < adapters and a feature's http < platform/health and platform/composition < functions/.
 * A feature's domain and projection know no other feature; a use case imports ports, never
 * adapters; nothing in shared/ knows the devhost or the function adapters.
 */
function architectureBoundaries() {
  const adapters = {
    group: ['**/adapters/**', '**/adapters'],
    message: 'Use cases import ports, never adapters: the composition root (platform/composition) wires adapters in.',
  };
  const composition = {
    group: ['**/composition/**', '**/platform/health/**'],
    message: 'Only functions/ import the composition root and the health checks.',
  };
  const hosts = {
    group: ['**/devhost/**', 'functions-devhost', 'functions-devhost/**', '**/functions/**', '**/local/**'],
    message: 'shared/ knows neither the devhost, nor the function adapters, nor the local stand-ins.',
  };
  const sdks = {
    group: ['@azure/*', '!@azure/functions', 'axios', 'durable-functions'],
    message: 'Use cases reach the outside world through ports: SDKs belong in adapters.',
  };
  /** Imports of these layers of any feature from a file two folders down in shared/ (`shared/<feature>/<layer>/x.ts`). */
  const layersAbove = (...layers) => ({
    group: layers.flatMap((layer) =>
      layer === 'platform' ? ['../../platform', '../../platform/**'] : [`../${layer}/**`, `../../*/${layer}/**`],
    ),
    message: `Dependencies point inwards: this layer may not import ${layers.join(', ')}.`,
  });
  const otherFeature = (feature, ...layers) =>
    FEATURES.filter((other) => other !== feature).map((other) => ({
      group: layers.map((layer) => `**/${other}/${layer}/**`),
      message: `A feature's ${layers.join(' and ')} is its own: ${feature} may not import ${other}'s.`,
    }));
  const noRestricted = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns: [hosts, ...patterns] }] });
  return [
    {
      files: ['shared/kernel/**/*.ts'],
      rules: {
        ...noRestricted(...purePatterns, { group: ['../**'], message: 'The kernel imports nothing else of the app.' }),
        'no-restricted-syntax': ['error', ...impureSyntax],
      },
    },
    ...FEATURES.flatMap((feature) => [
      {
        files: [`shared/${feature}/domain/**/*.ts`],
        rules: {
          ...noRestricted(
            ...purePatterns,
            layersAbove('projection', 'application', 'adapters', 'http', 'platform'),
            ...otherFeature(feature, 'domain', 'projection'),
          ),
          'no-restricted-syntax': ['error', ...impureSyntax],
        },
      },
      {
        files: [`shared/${feature}/projection/**/*.ts`],
        rules: {
          ...noRestricted(
            ...purePatterns,
            layersAbove('application', 'adapters', 'http', 'platform'),
            ...otherFeature(feature, 'domain', 'projection'),
          ),
          'no-restricted-syntax': ['error', ...impureSyntax],
        },
      },
      {
        files: [`shared/${feature}/application/**/*.ts`],
        rules: noRestricted(adapters, composition, sdks, layersAbove('http'), ...otherFeature(feature, 'application', 'adapters', 'http')),
      },
      {
        files: [`shared/${feature}/adapters/**/*.ts`, `shared/${feature}/http/**/*.ts`],
        rules: noRestricted(composition, ...otherFeature(feature, 'adapters', 'http')),
      },
    ]),
    {
      // The platform's ports and their use cases (not its adapters, health checks or composition root).
      files: ['shared/platform/*.ts', 'shared/platform/{eventSourcing,views,publishing,http,outbound}/*.ts'],
      rules: noRestricted(adapters, composition, {
        group: FEATURES.flatMap((feature) => ['application', 'adapters', 'http'].map((layer) => `**/${feature}/${layer}/**`)),
        message: "The platform's ports sit below the features' use cases: they may not import them.",
      }),
    },
    {
      files: ['shared/platform/**/adapters/**/*.ts', 'shared/platform/adapters/**/*.ts'],
      rules: noRestricted(composition),
    },
    {
      // The devhost runs any Functions app: it knows nothing of this one (what the app needs at start
      // comes through its set-up hook, local/devhostSetup.ts).
      files: ['packages/devhost/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                group: ['**/shared', '**/shared/**', '**/functions/**', '**/local', '**/local/**', '**/web/**'],
                message:
                  'The devhost knows nothing of the app: what the app needs at start comes through its set-up hook (packages/devhost/src/appSetup.ts).',
              },
            ],
          },
        ],
      },
    },
    {
      // The worker loads every entry file at start: what one imports is every instance's cold start.
      // So an entry registers, and its code (handlers/) loads with its first invocation. The
      // orchestrator is its own code (replayed, small), and the site and key-check entries load little.
      files: ['functions/**/*.ts'],
      ignores: ['functions/**/*.orchestration.ts', 'functions/web.http.ts', 'functions/keyCheck.http.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              HOST_INDEPENDENT,
              {
                regex: String.raw`^(\.\./shared/(?!platform/composition/(lazyHandler|durableRegistration)$).*|zod|durable-functions)$`,
                allowTypeImports: true,
                message:
                  'An entry file only registers: load the code with lazyHandler (handlers/) or durableRegistration, so that the worker starts fast.',
              },
            ],
          },
        ],
      },
    },
    {
      // handlers/ holds what functions/ registers, loaded on first invocation: the same layer.
      files: ['functions/**/*.orchestration.ts', 'functions/web.http.ts', 'functions/keyCheck.http.ts', 'handlers/**/*.ts'],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [HOST_INDEPENDENT],
          },
        ],
      },
    },
  ];
}

/**
 * Orchestrator code is replayed, so it must decide the same way every time: no clock, no randomness,
 * no settings, no I/O. Time comes from context.df.currentUtcDateTime, settings and I/O from activities.
 */
const orchestratorFiles = ['functions/**/*.orchestration.ts'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '.devhost/**',
      '**/test-artifacts/**',
      'test-results/**',
      'packages/*/dist/**',
      'packages/*/jest.config.js',
      'web/**/*.js',
      'jest.config.js',
      'jest.app.config.js',
      'jest.reliability.config.js',
    ],
  },
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
  ...architectureBoundaries(),
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
            {
              group: ['node:*', 'fs', 'http', 'https', 'crypto', 'os', 'child_process'],
              message: 'Orchestrators do no I/O: call an activity.',
            },
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
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts', 'packages/*/bench/**/*.ts'],
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
  {
    // The Functions apps that end-to-end tests run (copied first), as an app author writes them for Core Tools: CommonJS, no types.
    files: ['packages/*/test/fixtures/apps/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);

#!/usr/bin/env node
// `npm start`: builds what changed (the app, the devhost and the pages' scripts; not benches or
// tests), says so in one line, then runs the devhost in this same process (packages/devhost/src/main.ts), which
// prints a line per stage and "Ready in N s" counted from this process's start.
'use strict';

const { join } = require('node:path');

const root = join(__dirname, '..');

/** tsc --build over the app and the pages: incremental, so an unchanged tree costs well under a second. */
function build() {
  const started = performance.now();
  const ts = require('typescript');
  const diagnostics = [];
  const rebuilt = [];
  const host = ts.createSolutionBuilderHost(
    ts.sys,
    undefined,
    (diagnostic) => diagnostics.push(diagnostic),
    (status) => {
      // TS6358 "Building project '…'…": the projects that were out of date.
      if (status.code === 6358) rebuilt.push(String(status.messageText).match(/'([^']+)'/)?.[1] ?? '?');
    },
  );
  const projects = [join(root, 'tsconfig.app.json'), join(root, 'web', 'tsconfig.json')];
  const status = ts.createSolutionBuilder(host, projects, { verbose: true }).build();
  const ms = Math.round(performance.now() - started);
  if (status !== ts.ExitStatus.Success) {
    const formatHost = { getCanonicalFileName: (name) => name, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost));
    console.error(`The build failed (${diagnostics.length} errors): fix them and run npm start again.`);
    process.exit(1);
  }
  const what =
    rebuilt.length === 0
      ? 'up to date'
      : `compiled ${rebuilt.map((path) => (path.includes('web') ? 'the pages' : path.includes('packages') ? 'the devhost' : 'the app')).join(', ')}`;
  console.log(`  ${'build'.padEnd(12)}${what} (${ms} ms)`);
}

console.log('Starting Visit Plannr…');
build();
require(join(root, 'packages', 'devhost', 'dist', 'main.js'));

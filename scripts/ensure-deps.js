#!/usr/bin/env node
// Runs before `npm start` and `npm test` (prestart, pretest): installs the dependencies when
// node_modules is missing or does not match package-lock.json, so those two commands work right after
// `git clone`. Plain Node with no dependencies of its own, since it runs before any are installed.
'use strict';

const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** Node versions the app and its tools run on (package.json engines says the same). */
function checkNodeVersion() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const supported = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;
  if (!supported) {
    console.error(`Visit Plannr needs Node.js 20.19 or later 20.x, or 22.12 and later; this is ${process.version}.`);
    process.exit(1);
  }
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/**
 * Why node_modules needs installing, or undefined when it matches the lock file. npm keeps what it
 * installed in node_modules/.package-lock.json; comparing versions package by package is exact and
 * takes a few milliseconds, where timestamps lie after a checkout.
 */
function reasonToInstall() {
  const installedPath = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(installedPath)) return 'node_modules is missing';
  const lock = readJson(join(root, 'package-lock.json'));
  const installed = readJson(installedPath).packages ?? {};
  const manifest = readJson(join(root, 'package.json'));
  const locked = lock.packages?.[''] ?? {};
  for (const field of ['dependencies', 'devDependencies']) {
    if (JSON.stringify(manifest[field] ?? {}) !== JSON.stringify(locked[field] ?? {}))
      return `package.json ${field} differ from package-lock.json`;
  }
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || entry.link) continue;
    const present = installed[path];
    // Optional packages for other platforms (a native build for macOS, say) are never installed here.
    if (present === undefined && entry.optional) continue;
    if (present === undefined) return `${path.replace(/^node_modules\//, '')} is not installed`;
    if (present.version !== entry.version)
      return `${path.replace(/^node_modules\//, '')} is ${present.version}, the lock file says ${entry.version}`;
  }
  return undefined;
}

function install(reason) {
  // npm runs this script with npm_execpath set to its own CLI: use the same npm, whatever PATH says.
  const npmCli = process.env.npm_execpath;
  const [command, args] = npmCli && npmCli.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  // A lock file that disagrees with package.json is one somebody is editing: let npm reconcile them.
  const verb = reason.startsWith('package.json') ? 'install' : 'ci';
  console.log(`Installing dependencies (${reason}): npm ${verb}, about 30 s the first time…`);
  const result = spawnSync(command, [...args, verb, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`npm ${verb} failed (exit ${result.status ?? result.signal}); see above.`);
    process.exit(result.status ?? 1);
  }
}

checkNodeVersion();
const reason = reasonToInstall();
if (reason !== undefined) install(reason);

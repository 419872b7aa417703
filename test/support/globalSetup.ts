import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** End-to-end tests run the compiled app (and its pages) through the devhost, as `npm start` does: build it once. */
export default function globalSetup(): void {
  // For quick runs of unit and integration tests while dist/ is known to be current.
  if (process.env.PLANNR_SKIP_BUILD === '1') return;
  const root = join(__dirname, '..', '..');
  // As `npm run build`, incrementally: the app, benches and test fixtures into dist/, the pages' scripts into web/assets/js/.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(root, 'tsconfig.build.json'), join(root, 'web')], {
    cwd: root,
    stdio: 'inherit',
  });
}

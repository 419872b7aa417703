import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** End-to-end tests run the compiled app through the devhost, as `npm start` does: build it once. */
export default function globalSetup(): void {
  // For quick runs of unit and integration tests while dist/ is known to be current.
  if (process.env.PLANNR_SKIP_BUILD === '1') return;
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}

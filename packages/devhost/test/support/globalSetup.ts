import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';

/** End-to-end tests run the compiled CLI as a user would (`devhost --app DIR`): build it once, incrementally. */
export default function globalSetup(): void {
  if (process.env.DEVHOST_SKIP_BUILD === '1') return;
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  chmodSync(join(root, 'dist', 'main.js'), 0o755);
}

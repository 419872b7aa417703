import { existsSync } from 'node:fs';

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH when set, otherwise the one shipped inside the
 * @sparticuz/chromium npm package (unpacked into the temp folder on first use), so `npm test` needs
 * no system browser and no download of its own.
 */
export async function chromiumExecutable(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const chosen = env.CHROMIUM_PATH;
  if (chosen !== undefined && chosen !== '') {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, but there is no file there.`);
    return chosen;
  }
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.executablePath();
}

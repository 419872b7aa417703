import { execFile } from 'node:child_process';
import { join } from 'node:path';

/*
 * ESLint's Node API cannot run inside jest: it loads eslint.config.mjs with a dynamic import(), which
 * jest's module system refuses without --experimental-vm-modules. So a child node process runs the
 * API (ESLint, lintText, lintFiles) on the repository's own config and reports back as JSON.
 * Snippets are linted as if they were files at paths that do not exist on disk (no other work may
 * see a stray module), so the project service gets an `allowDefaultProject` for those names only,
 * with the repository's tsconfig as the default project: the type-aware rules still run.
 */

const root = join(__dirname, '..', '..');

export interface LintMessage {
  readonly ruleId: string | null;
  readonly line: number;
  readonly message: string;
}

export interface LintReport {
  readonly snippets: readonly (readonly LintMessage[])[];
  readonly files: readonly {
    readonly filePath: string;
    readonly errorCount: number;
    readonly warningCount: number;
    readonly messages: readonly LintMessage[];
  }[];
}

const LINT_SCRIPT = `
const { ESLint } = require('eslint');
let text = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { text += chunk; });
process.stdin.on('end', async () => {
  try {
    const { snippets, files, allowDefaultProject } = JSON.parse(text);
    const messages = (result) => result.messages.map(({ ruleId, line, message }) => ({ ruleId, line, message }));
    const forSnippets = new ESLint({ cwd: process.cwd(), overrideConfig: { languageOptions: { parserOptions: { projectService: { allowDefaultProject, defaultProject: 'tsconfig.json', maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32 } } } } });
    const out = { snippets: [], files: [] };
    for (const { code, filePath } of snippets) out.snippets.push(messages((await forSnippets.lintText(code, { filePath }))[0]));
    // Real files exactly as \`npx eslint\` lints them: the repository's config, untouched.
    for (const result of await new ESLint({ cwd: process.cwd() }).lintFiles(files)) {
      out.files.push({ filePath: result.filePath, errorCount: result.errorCount, warningCount: result.warningCount, messages: messages(result) });
    }
    process.stdout.write(JSON.stringify(out));
  } catch (error) {
    process.stderr.write(String(error && error.stack ? error.stack : error));
    process.exitCode = 1;
  }
});
`;

/** Lints snippets as if they were files at their paths (only those matching `allowDefaultProject` need not exist), and real files as `npx eslint` does. */
export function lint(
  snippets: readonly { code: string; filePath: string }[],
  files: readonly string[],
  allowDefaultProject: readonly string[] = ['functions/__linttest*.ts'],
): Promise<LintReport> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['-e', LINT_SCRIPT], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ESLint failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as LintReport);
    });
    child.stdin?.end(JSON.stringify({ snippets, files, allowDefaultProject }));
  });
}

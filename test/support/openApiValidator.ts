import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface OpenApiValidation {
  readonly valid: boolean;
  readonly errors?: unknown;
}

/**
 * Validates a document with @seriousme/openapi-schema-validator (the OpenAPI 3.1 schema, JSON Schema
 * 2020-12, and every $ref resolved). The validator is an ES module that jest's CommonJS runtime cannot
 * load, so it runs in a child Node process, given the document on stdin.
 */
export function validateOpenApi(document: unknown): OpenApiValidation {
  const script = [
    "import { Validator } from '@seriousme/openapi-schema-validator';",
    "import { readFileSync } from 'node:fs';",
    "const result = await new Validator().validate(JSON.parse(readFileSync(0, 'utf8')));",
    'process.stdout.write(JSON.stringify(result));',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: join(__dirname, '..', '..'),
    input: JSON.stringify(document),
    encoding: 'utf8',
  });
  return JSON.parse(output) as OpenApiValidation;
}

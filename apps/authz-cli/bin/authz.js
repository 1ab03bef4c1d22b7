#!/usr/bin/env node
// The `authz` command (package.json "bin"): runs the compiled CLI, dist/apps/authz-cli/src/main.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../../', import.meta.url);
const main = new URL('dist/apps/authz-cli/src/main.js', root);

if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `authz: the CLI is not built yet (${fileURLToPath(main)} is missing).\n` +
      `  run "npm run build" in ${fileURLToPath(root)} first (after "npm ci").\n`,
  );
  process.exit(1);
}
await import(main.href);

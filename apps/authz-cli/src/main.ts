import { run } from './cli';
import { processIo } from './io';

// `authz`: see cli.ts. apps/authz-cli/bin/authz.js is the launcher npm links.
process.exitCode = await run(process.argv.slice(2), processIo());

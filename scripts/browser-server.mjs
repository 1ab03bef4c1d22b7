// One headless Chromium for a whole test run (scripts/test.sh starts it once; every browser
// suite connects to it and opens contexts of its own). Prints the WebSocket endpoint as its
// first stdout line, then runs until SIGTERM / SIGINT, when it closes the browser.
//
// Usage: node scripts/browser-server.mjs /usr/bin/chromium
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

// The flags of every Chromium the tests run (issue 13): headless, no sandbox (containers give
// it no user namespaces), and no network traffic of its own.
const CHROMIUM_ARGS = JSON.parse(readFileSync(new URL('./chromium-args.json', import.meta.url), 'utf8'));

const executablePath = process.argv[2];
if (!executablePath) {
  console.error('usage: node scripts/browser-server.mjs <chromium executable>');
  process.exit(2);
}
const server = await chromium.launchServer({ executablePath, headless: true, chromiumSandbox: false, args: CHROMIUM_ARGS, host: '127.0.0.1' });
console.log(server.wsEndpoint());
let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await server.close().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
// The test run that started us died without stopping us: do not outlive it.
process.stdin.on('end', close);
process.stdin.resume();

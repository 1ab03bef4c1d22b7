import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from './infra';

/** Where the browser suites save their screenshots (git-ignored; CI keeps them as artifacts). */
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}

/**
 * A real Chromium (Debian's package, driven by playwright-core). npm test starts one for the
 * whole run (scripts/browser-server.mjs) and says where in AUTHZ_TEST_BROWSER_WS; a suite run
 * on its own launches one of its own (scripts/chromium.sh installs the package if it is
 * missing). Either way the caller closes what it gets: a connection, or its own browser.
 */
export async function openBrowser(): Promise<Browser> {
  const endpoint = process.env.AUTHZ_TEST_BROWSER_WS;
  if (endpoint) return chromium.connect(endpoint, { timeout: 30_000 });
  const executablePath = execFileSync('bash', [join(ROOT, 'scripts', 'chromium.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const args = JSON.parse(readFileSync(join(ROOT, 'scripts', 'chromium-args.json'), 'utf8')) as string[];
  return chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args });
}

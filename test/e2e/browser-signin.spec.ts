import type { Browser, BrowserContext, Page } from 'playwright-core';
import { parseForm } from '../support/browser';
import { openBrowser, screenshotPath } from '../support/chromium';
import { startClientApp, type ClientApp } from '../support/client-app';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { introspect, serviceClient } from '../support/oauth';
import { api } from '../support/processes';

const SCOPE = 'vm.read chat';

/**
 * The sign-in page as users meet it: in a real Chromium, from a client web application that
 * starts the flow and receives the callback, in both modes. A browser enforces what fetch does
 * not: the page's CSP (form-action governs the redirect after the POST), cookies' SameSite, the
 * Origin and Sec-Fetch-Site headers it sends itself.
 */
describeModes(modesFromEnv(), 'sign-in in a real browser (%s mode)', (mode) => {
  let d: Deployment;
  let app: ClientApp;
  let browser: Browser;
  let resourceServer: { clientId: string; clientSecret: string };
  let context: BrowserContext;
  let page: Page;
  /** What the browser's console said about Content Security Policy on this test's pages. */
  let cspViolations: string[];

  beforeAll(async () => {
    [d, browser] = await Promise.all([startDeployment(mode, { name: 'browser' }), openBrowser()]);
    app = await startClientApp({ authzUrl: d.a.url, codeClientId: 'voicemail-web', implicitClientId: 'voicemail-spa', scope: SCOPE });
    const admin = d.admin;
    expect((await api(`${d.a.url}/admin/users`, { method: 'POST', auth: admin, body: { userId: 'alice', password: 'alice-password', roles: [] } })).status).toBe(201);
    expect((await api(`${d.a.url}/admin/parameters`, { method: 'PUT', auth: admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } })).status).toBe(200);
    for (const [clientId, clientName, grantTypes, redirectUri] of [
      ['voicemail-web', 'Voicemail Web', ['authorization_code', 'refresh_token'], app.codeRedirectUri],
      ['voicemail-spa', 'Voicemail Lite', ['implicit'], app.implicitRedirectUri],
    ] as const) {
      const created = await api(`${d.a.url}/admin/clients`, { method: 'POST', auth: admin, body: { clientId, clientName, type: 'public', redirectUris: [redirectUri], grantTypes, scope: SCOPE } });
      expect(created.status).toBe(201);
    }
    resourceServer = await serviceClient(d.a.url, admin, 'voicemail-server');
    if (mode === 'cluster') await d.caughtUp();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await d?.stop();
  });

  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    cspViolations = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  afterEach(async () => context?.close());

  /** Starts at the client app, which sends the browser to authz's sign-in page. */
  async function signInPage(flow: 'code' | 'token'): Promise<void> {
    const response = await page.goto(app.startUrl(flow));
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).origin).toBe(d.a.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  }

  async function submit(username: string, password: string): Promise<void> {
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('code + PKCE: signs in through the form and the app exchanges the code for tokens', async () => {
    await signInPage('code');
    await expect(page.title()).resolves.toBe('Sign in to continue to Voicemail Web');
    await expect(page.locator('.lead').textContent()).resolves.toContain('Voicemail Web');
    await expect(page.locator('ul.scopes li').allTextContents()).resolves.toEqual(['vm.read', 'chat']);
    await expect(page.locator('.note').textContent()).resolves.toContain(`127.0.0.1:${app.port}`);
    // The stylesheet loaded (style-src 'self'): the button has the page's accent, not the UA's grey.
    await expect(page.getByRole('button', { name: 'Sign in' }).evaluate((b) => getComputedStyle(b).backgroundColor)).resolves.toBe('rgb(29, 78, 216)');
    await page.screenshot({ path: screenshotPath(`${mode}-signin-page`), fullPage: true });

    const before = app.exchanges.length;
    await submit('alice', 'alice-password');
    await page.waitForURL(`${app.url}/callback?**`);
    await expect(page.locator('#result').textContent()).resolves.toBe('signed in (Bearer, scope vm.read chat)');
    const exchange = app.exchanges[before];
    expect(exchange.status).toBe(200);
    expect(exchange.body).toMatchObject({ token_type: 'Bearer', scope: SCOPE });
    expect(typeof exchange.body.refresh_token).toBe('string');
    await expect(introspect(d.b.url, resourceServer, exchange.body.access_token)).resolves.toMatchObject({ active: true, sub: 'alice', client_id: 'voicemail-web' });
    expect(cspViolations).toEqual([]);
  });

  it('implicit: the access token arrives in the fragment, read by the callback page', async () => {
    await signInPage('token');
    await submit('alice', 'alice-password');
    await page.waitForURL(`${app.url}/implicit`);
    const fragment = JSON.parse((await page.locator('#result').textContent())!);
    expect(fragment).toMatchObject({ token_type: 'Bearer', scope: SCOPE });
    expect(fragment.refresh_token).toBeUndefined();
    expect(typeof fragment.state).toBe('string');
    // The fragment never reached a server: the app's callback saw no token.
    expect(app.callbacks.at(-1)).toBe('/implicit');
    await expect(introspect(d.b.url, resourceServer, fragment.access_token)).resolves.toMatchObject({ active: true, sub: 'alice', client_id: 'voicemail-spa' });
    expect(cspViolations).toEqual([]);
  });

  it('a wrong password: announced, the username kept, the focus on the password; then the right one signs in', async () => {
    await signInPage('code');
    await submit('alice', 'not-her-password');
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toBe('Wrong username or password.');
    expect(new URL(page.url()).origin).toBe(d.a.url);
    await expect(page.getByLabel('Username').inputValue()).resolves.toBe('alice');
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('password');
    // Both fields point at the message, so a screen reader reads it with the focused field.
    await expect(page.getByLabel('Password').getAttribute('aria-describedby')).resolves.toBe('signin-error');
    await expect(page.getByLabel('Password').getAttribute('aria-invalid')).resolves.toBe('true');
    await page.screenshot({ path: screenshotPath(`${mode}-signin-wrong-password`), fullPage: true });

    // The page answered after the failure is a working form of the same request.
    await page.getByLabel('Password').fill('alice-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/callback?**`);
    await expect(page.locator('#result').textContent()).resolves.toMatch(/^signed in/);
    expect(cspViolations).toEqual([]);
  });

  it('works with the keyboard alone: the focus starts in the username, Tab reaches the password, Enter submits', async () => {
    await signInPage('code');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('username');
    await page.keyboard.type('alice');
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('password');
    await page.keyboard.type('alice-password');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${app.url}/callback?**`);
    await expect(page.locator('#result').textContent()).resolves.toMatch(/^signed in/);
  });

  it('fits a phone-sized viewport without sideways scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const small = await phone.newPage();
      await small.goto(app.startUrl('code'));
      await small.getByRole('heading', { name: 'Sign in' }).waitFor();
      const layout = await small.evaluate(() => {
        const button = document.querySelector('button')!.getBoundingClientRect();
        const input = document.querySelector('#username')!.getBoundingClientRect();
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, buttonRight: button.right, buttonHeight: button.height, inputWidth: input.width };
      });
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
      expect(layout.buttonRight).toBeLessThanOrEqual(layout.innerWidth);
      // A target a thumb can hit, and fields that use the screen's width.
      expect(layout.buttonHeight).toBeGreaterThanOrEqual(44);
      expect(layout.inputWidth).toBeGreaterThan(layout.innerWidth * 0.8);
      await small.screenshot({ path: screenshotPath(`${mode}-signin-phone`), fullPage: true });
      await small.getByLabel('Username').fill('alice');
      await small.getByLabel('Password').fill('alice-password');
      await small.getByRole('button', { name: 'Sign in' }).tap();
      await small.waitForURL(`${app.url}/callback?**`);
    } finally {
      await phone.close();
    }
  });

  it('refuses a form without its anti-forgery token, and the app is never reached', async () => {
    await signInPage('code');
    const callbacks = app.callbacks.length;
    await page.locator('input[name="csrf_token"]').evaluate((input) => input.remove());
    await submit('alice', 'alice-password');
    await page.getByRole('heading', { name: 'Authorization error' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('no valid anti-forgery token');
    expect(new URL(page.url()).origin).toBe(d.a.url);
    expect(app.callbacks.length).toBe(callbacks);
    await page.screenshot({ path: screenshotPath(`${mode}-error-page`), fullPage: true });
  });

  it("refuses a form posted without the browser's anti-forgery cookie", async () => {
    await signInPage('code');
    await context.clearCookies();
    await submit('alice', 'alice-password');
    await page.getByRole('heading', { name: 'Authorization error' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('no valid anti-forgery token');
  });

  it("refuses a cross-site POST (login CSRF: another site signs the victim's browser in as the attacker)", async () => {
    // The attacker fetches a genuine form for itself: a valid token for its own cookie.
    const genuine = await fetch(`${app.startUrl('code')}`, { redirect: 'manual' });
    const authorizeUrl = new URL(genuine.headers.get('location')!);
    const genuineForm = parseForm(await (await fetch(authorizeUrl)).text(), authorizeUrl.href);
    const fields = Object.fromEntries(genuineForm.inputs.filter((i) => i.type === 'hidden').map((i) => [i.name, i.value]));
    expect(fields.csrf_token).toBeDefined();
    const inputs = Object.entries({ ...fields, username: 'alice', password: 'alice-password' })
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">`)
      .join('');
    app.page('/attacker', `<!doctype html><html><body><form method="post" action="${d.a.url}/oauth/authorize">${inputs}<button>Win a prize</button></form></body></html>`);

    // The victim's browser has been to the sign-in page (it holds an anti-forgery cookie of its own).
    await signInPage('code');
    const callbacks = app.callbacks.length;
    // Another site: localhost is not the site of 127.0.0.1.
    await page.goto(`http://localhost:${app.port}/attacker`);
    await page.getByRole('button', { name: 'Win a prize' }).click();
    await page.getByRole('heading', { name: 'Authorization error' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('posted from another site');
    expect(app.callbacks.length).toBe(callbacks);
  });

  it('an authorization request that cannot be trusted gets an error page, never a redirect', async () => {
    const response = await page.goto(`${d.a.url}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'voicemail-web', redirect_uri: 'https://evil.example/cb' })}`);
    expect(response?.status()).toBe(400);
    expect(response?.headers()['content-security-policy']).toContain("form-action 'none'");
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/redirect/i);
    expect(new URL(page.url()).origin).toBe(d.a.url);
    expect(cspViolations).toEqual([]);
  });
});

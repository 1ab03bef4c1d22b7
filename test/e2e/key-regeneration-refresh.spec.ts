import { createHash, randomBytes } from 'node:crypto';
import { waitFor } from '../support/infra';
import { decodeSegment, form, introspect, postSignIn, serviceClient } from '../support/oauth';
import { api, type Node } from '../support/processes';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';

const REDIRECT = 'https://mobile.example/callback';
const CLIENT = 'mobile';
const USER = 'mia';
const PASSWORD = 'mia-password';

interface Tokens {
  access: string;
  refresh: string;
  tid: string;
}

/**
 * Refresh tokens across signing key regenerations (seed S7, S10, S11), on real servers: a
 * regeneration invalidates the access tokens of the old key but not the refresh tokens, which
 * give new access tokens under the new key; `--revoke-refresh-tokens` (CLI) or
 * `revokeRefreshTokens` (API) revokes every refresh token issued before it, on every node at
 * once; refreshtokendetails and the audit say so. Cluster mode: regenerated on node A, refreshed
 * on node B, which has not necessarily seen the event yet.
 */
describeModes(modesFromEnv(), 'refresh tokens and signing key regeneration (%s)', (mode) => {
  let d: Deployment;
  let introspector: { clientId: string; clientSecret: string };
  const tokens: Record<string, Tokens> = {};

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'keyregen' });
    expect((await api(`${d.a.url}/admin/parameters`, { method: 'PUT', auth: d.admin, body: { oauthWithRefreshLoginFlow: 'Enabled' } })).status).toBe(200);
    expect((await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { userId: USER, password: PASSWORD, roles: [] } })).status).toBe(201);
    const client = await api(`${d.a.url}/admin/clients`, {
      method: 'POST',
      auth: d.admin,
      body: { clientId: CLIENT, clientName: 'Mobile app', type: 'public', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] },
    });
    expect(client.status).toBe(201);
    introspector = await serviceClient(d.a.url, d.admin, 'introspector');
    for (const node of d.nodes) {
      await waitFor(async () => (await api(`${node.url}/.well-known/oauth-authorization-server`)).body.response_types_supported?.includes('code'), 30_000, 'code flow on');
    }
  });

  afterAll(async () => {
    await d?.stop();
  });

  async function login(node: Node): Promise<Tokens> {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const params = { response_type: 'code', client_id: CLIENT, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' };
    const posted = await postSignIn(node.url, params, USER, PASSWORD);
    const code = new URL(posted.headers.get('location')!).searchParams.get('code')!;
    const answer = await form(`${node.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, client_id: CLIENT });
    expect(answer.status).toBe(200);
    const refresh = answer.body.refresh_token as string;
    return { access: answer.body.access_token, refresh, tid: decodeSegment(refresh.split('.')[1]).tid };
  }

  const refresh = (node: Node, token: string) => form(`${node.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: token, client_id: CLIENT });
  const kidOf = (token: string) => decodeSegment(token.split('.')[0]).kid as string;
  const keys = async (node = d.a) => (await api(`${node.url}/admin/keys`, { auth: d.admin })).body;
  const active = async (node: Node, token: string) => (await introspect(node.url, introspector, token)).active;
  const regenerate = (kind: string, options: { body?: unknown; rawBody?: string; contentType?: string; query?: string } = {}) =>
    api(`${d.a.url}/admin/keys/${kind}/regenerate${options.query ?? ''}`, { method: 'POST', auth: d.admin, body: options.body, rawBody: options.rawBody, contentType: options.contentType });

  /** The rows of refreshtokendetails by tid, once `ready` holds for them (the projection follows within moments). */
  async function rows(ready: (byTid: Record<string, { state: string; revokedReason: string | null }>) => boolean) {
    return waitFor(async () => {
      const listed = await api(`${d.b.url}/admin/refresh-tokens?user_id=${USER}&limit=100`, { auth: d.admin });
      if (listed.status !== 200) return false;
      const byTid = Object.fromEntries(listed.body.tokens.map((t: { pkid: string; state: string; revokedReason: string | null }) => [t.pkid, t]));
      return ready(byTid) && byTid;
    }, 30_000, 'refreshtokendetails to show the tokens as expected');
  }

  async function regenerationsInAudit(count: number) {
    return waitFor(async () => {
      const listed = await api(`${d.a.url}/admin/audit?type=KeyRegenerated&limit=50`, { auth: d.admin });
      const regenerations = (listed.body.events ?? []).filter((e: { summary: string }) => e.summary.includes(' regenerated: '));
      return regenerations.length >= count && regenerations;
    }, 30_000, `${count} regenerations in the audit`);
  }

  it('a signing key regeneration rejects the old access token; the refresh token gives a new one under the new key, and stays active', async () => {
    tokens.first = await login(d.a);
    expect(await active(d.b, tokens.first.access)).toBe(true);
    const before = await keys();
    expect(kidOf(tokens.first.refresh)).toBe(before.signing.kid);

    const run = await d.authz(['set', 'key', 'regen', 'signing', '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Access tokens issued under the old signing key are now rejected. Refresh tokens still work');
    const after = await keys();
    expect(after.signing.kid).not.toBe(before.signing.kid);

    for (const node of d.nodes) await waitFor(async () => !(await active(node, tokens.first.access)), 15_000, `${node.url} to reject the old access token`);

    // On the other node at once: a new access token, signed with the new key.
    const refreshed = await refresh(d.b, tokens.first.refresh);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBeUndefined();
    expect(kidOf(refreshed.body.access_token)).toBe(after.signing.kid);
    expect(await active(d.a, refreshed.body.access_token)).toBe(true);
    expect((await refresh(d.a, tokens.first.refresh)).status).toBe(200);

    const listed = await rows((byTid) => byTid[tokens.first.tid] !== undefined);
    expect(listed[tokens.first.tid]).toMatchObject({ state: 'active', revokedReason: null });
    const [latest] = await regenerationsInAudit(1);
    expect(latest).toMatchObject({ type: 'KeyRegenerated', actor: 'user:admin' });
    expect(latest.summary).toContain(`signing key regenerated: kid ${after.signing.kid}`);
    expect(latest.summary).toContain('access tokens signed with the previous key are rejected, refresh tokens still work');
  });

  it('with --revoke-refresh-tokens every refresh token issued before is refused on every node at once, and shown revoked; later ones work', async () => {
    tokens.second = await login(d.a);
    const run = await d.authz(['set', 'key', 'regen', 'signing', '--revoke-refresh-tokens', '--yes']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Every refresh token issued before it is revoked');

    // Node B first: it decides from the event store, whether or not the key event reached it.
    for (const node of [d.b, d.a]) {
      for (const token of [tokens.first, tokens.second]) {
        const refused = await refresh(node, token.refresh);
        expect(refused.status).toBe(400);
        expect(refused.body).toEqual({ error: 'invalid_grant', error_description: 'the refresh token was revoked by a signing key regeneration' });
      }
    }
    tokens.third = await login(d.b);
    expect(kidOf(tokens.third.refresh)).toBe((await keys(d.b)).signing.kid);
    expect((await refresh(d.a, tokens.third.refresh)).status).toBe(200);

    const listed = await rows((byTid) => byTid[tokens.third.tid] !== undefined && byTid[tokens.second.tid]?.state === 'revoked');
    expect(listed[tokens.first.tid]).toMatchObject({ state: 'revoked', revokedReason: 'key_regenerated' });
    expect(listed[tokens.second.tid]).toMatchObject({ state: 'revoked', revokedReason: 'key_regenerated' });
    expect(listed[tokens.third.tid]).toMatchObject({ state: 'active', revokedReason: null });
    const revokedOnly = await api(`${d.a.url}/admin/refresh-tokens?user_id=${USER}&state=revoked`, { auth: d.admin });
    expect(revokedOnly.body.tokens.map((t: { pkid: string }) => t.pkid).sort()).toEqual([tokens.first.tid, tokens.second.tid].sort());

    const [latest] = await regenerationsInAudit(2);
    expect(latest.summary).toContain('access tokens signed with the previous key are rejected, and every refresh token issued before it is revoked');
    const cliList = await d.authz(['tokens', 'list', '--user', USER, '--state', 'revoked', '--json']);
    expect(cliList.code).toBe(0);
    expect(JSON.parse(cliList.stdout).map((t: { revokedReason: string }) => t.revokedReason)).toEqual(['key_regenerated', 'key_regenerated']);
  });

  it('the API: a body-less POST keeps refresh tokens, the flag by JSON or query revokes them, and bad options change nothing', async () => {
    const before = await keys();
    for (const [kind, options, status, code] of [
      ['encryption', { body: { revokeRefreshTokens: true } }, 400, 'REFRESH_TOKENS_NOT_ENCRYPTED'],
      ['signing', { body: { revokeRefreshTokens: 'yes' } }, 400, 'REVOKE_REFRESH_TOKENS_NOT_BOOLEAN'],
      ['signing', { body: { revokeRefreshToken: true } }, 400, 'REGENERATE_UNKNOWN_FIELD'],
      ['signing', { body: [true] }, 400, 'REGENERATE_NOT_AN_OBJECT'],
      ['signing', { query: '?revokeRefreshTokens=1' }, 400, 'REVOKE_REFRESH_TOKENS_NOT_BOOLEAN'],
      ['signing', { query: '?revokeRefreshTokens=false', body: { revokeRefreshTokens: true } }, 400, 'REVOKE_REFRESH_TOKENS_CONFLICT'],
      ['signing', { rawBody: 'revokeRefreshTokens=true', contentType: 'application/x-www-form-urlencoded' }, 415, undefined],
    ] as const) {
      const answer = await regenerate(kind, options);
      expect([kind, answer.status, answer.body.code]).toEqual([kind, status, code]);
      expect(answer.body.error).toBe('invalid_request');
    }
    expect(await keys()).toMatchObject({ signing: before.signing, encryption: before.encryption });

    // Encryption: access tokens only; the refresh token (signed, not encrypted) goes on working.
    const encryption = await regenerate('encryption');
    expect(encryption.status).toBe(200);
    expect(encryption.body).toMatchObject({ kind: 'encryption', revokeRefreshTokens: false });
    expect((await refresh(d.b, tokens.third.refresh)).status).toBe(200);
    // Signing, an empty JSON object: the default.
    const kept = await regenerate('signing', { body: {} });
    expect(kept.body).toMatchObject({ kind: 'signing', revokeRefreshTokens: false });
    expect((await refresh(d.b, tokens.third.refresh)).status).toBe(200);
    // Signing, the flag in the query: revoked.
    const revoked = await regenerate('signing', { query: '?revokeRefreshTokens=true' });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ kind: 'signing', revokeRefreshTokens: true, position: expect.any(Number) });
    expect((await refresh(d.b, tokens.third.refresh)).body.error).toBe('invalid_grant');
    const [latest] = await regenerationsInAudit(5);
    expect(latest.summary).toContain('every refresh token issued before it is revoked');
  });

  it('a node restarted after a regeneration still verifies the refresh tokens of the retired key, and still rejects its access tokens', async () => {
    tokens.fourth = await login(d.a);
    expect((await regenerate('signing')).status).toBe(200);
    const restarted = await d.restart(d.b);
    const answer = await refresh(restarted, tokens.fourth.refresh);
    expect(answer.status).toBe(200);
    expect(kidOf(answer.body.access_token)).toBe((await keys(restarted)).signing.kid);
    expect(await active(restarted, tokens.fourth.access)).toBe(false);
    expect((await keys(restarted)).node.signing).toBe((await keys()).signing.fingerprint);
  });
});

import { createDecipheriv, createPrivateKey } from 'node:crypto';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { describeModes, modesFromEnv, startDeployment, type Deployment } from '../support/deployment';
import { waitFor } from '../support/infra';
import { probe, type Received } from '../support/kafka-probe';
import { clientCredentialsToken, decodeSegment, introspect, serviceClient } from '../support/oauth';
import { api, basic, freePort, startNode, type Node } from '../support/processes';
import { TokenValidator } from '@authz/token-validator';

/**
 * Seed S5–S8, S15: self-contained tokens, key regeneration over HTTP, key distribution to
 * resource servers, in both modes. Cluster: two (then three) real nodes sharing one PostgreSQL
 * and one Kafka, "node A" mints and "node B" validates; embedded: the one node is both. What
 * needs several nodes, Kafka or the database (a late, restarted or frozen node, no plaintext
 * key material on Kafka or in the events table, the KEK) is checked in cluster mode only.
 */
describeModes(modesFromEnv(), 'keys and self-contained tokens (%s mode)', (mode) => {
  let d: Deployment;
  const cluster = mode === 'cluster';
  /** The nodes by name: node-a and node-b (embedded: both names are the one node), node-c once started. */
  const nodes: Record<string, Node> = {};
  /** Nodes this suite starts beside the deployment's. */
  const extra: Node[] = [];
  let admin: string;
  let service: { clientId: string; clientSecret: string };
  let listener: Awaited<ReturnType<typeof probe>> | undefined;

  const start = async (name: string) => {
    nodes[name] = await startNode('server', { ...d.env, AUTHZ_NODE_ID: name });
    extra.push(nodes[name]);
    return nodes[name];
  };
  const keysOf = async (node: Node) => (await api(`${node.url}/admin/keys`, { auth: admin })).body;
  const active = async (node: Node, token: string) => (await introspect(node.url, service, token)).active;

  beforeAll(async () => {
    d = await startDeployment(mode, { name: 'keys', env: { AUTHZ_RELAY_POLL_MS: '200' }, adminPassword: 'keys-admin-password' });
    admin = d.admin;
    nodes['node-a'] = d.a;
    nodes['node-b'] = d.b;
    if (cluster) listener = await probe([`${d.topicPrefix}.keyring`, `${d.topicPrefix}.client`, `${d.topicPrefix}.grant`, `${d.topicPrefix}.user`]);
    service = await serviceClient(nodes['node-a'].url, admin, 'voicemail');
  });

  afterAll(async () => {
    await listener?.close();
    for (const node of extra) {
      node.process.kill('SIGCONT');
      await node.stop();
    }
    await d?.stop();
  });

  it('mints on node A an access token in the CUCM format that node B validates on its own', async () => {
    const ring = await keysOf(nodes['node-a']);
    const token = await clientCredentialsToken(nodes['node-a'].url, service);
    const [header, payload, signature] = token.split('.');
    expect(decodeSegment(header)).toEqual({ alg: 'RS256', typ: 'JWT', kid: `${ring.clusterId}:${ring.signing.fingerprint}` });
    expect(ring.signing.kid).toBe(`${ring.clusterId}:${ring.signing.fingerprint}`);
    expect(signature.length).toBeGreaterThan(300);
    const outer = decodeSegment(payload);
    expect(Object.keys(outer)).toEqual(['private']);
    const jwe = outer.private.split('.');
    expect(jwe).toHaveLength(5);
    expect(decodeSegment(jwe[0])).toEqual({ alg: 'dir', cty: 'JWT', enc: 'A128CBC-HS256', kid: `${ring.clusterId}:${ring.encryption.fingerprint}` });
    expect(jwe[1]).toBe('');
    expect(Buffer.from(jwe[2], 'base64url')).toHaveLength(16);

    const claims = await introspect(nodes['node-b'].url, service, token);
    expect(claims).toMatchObject({ active: true, sub: 'voicemail', client_id: 'voicemail', scope: 'vm.read', iss: ring.clusterId });
    expect(await keysOf(nodes['node-b'])).toMatchObject({ signing: ring.signing, encryption: ring.encryption });
  });

  it.each(['signing', 'encryption'])('regenerating the %s key on A invalidates, on both nodes, every token minted before', async (kind) => {
    const before = await clientCredentialsToken(nodes['node-a'].url, service);
    expect(await active(nodes['node-b'], before)).toBe(true);
    const regenerated = await api(`${nodes['node-a'].url}/admin/keys/${kind}/regenerate`, { method: 'POST', auth: admin });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body).toMatchObject({ kind, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    for (const node of [nodes['node-a'], nodes['node-b']]) {
      await waitFor(async () => !(await active(node, before)), 15_000, `${node.url} to reject the old token`);
    }
    const after = await clientCredentialsToken(nodes['node-a'].url, service);
    await waitFor(() => active(nodes['node-b'], after), 15_000, 'node B to accept a token under the new key');
    expect((await keysOf(nodes['node-b']))[kind].fingerprint).toBe(regenerated.body.fingerprint);
  });

  (cluster ? it : it.skip)('cluster: a node started after a regeneration, or restarted, holds the same keys; a frozen node shows as a mismatch', async () => {
    const reference = await keysOf(nodes['node-a']);
    const late = await start('node-c');
    expect((await keysOf(late)).node).toMatchObject({ signing: reference.signing.fingerprint, encryption: reference.encryption.fingerprint });

    const restarted = await d.restart(nodes['node-b']);
    nodes['node-b'] = restarted;
    expect((await keysOf(restarted)).node).toMatchObject({ signing: reference.signing.fingerprint, encryption: reference.encryption.fingerprint });
    let cluster = (await api(`${nodes['node-a'].url}/admin/cluster/keys`, { auth: admin })).body;
    expect(cluster.allMatch).toBe(true);
    expect(cluster.nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['node-a', 'node-b', 'node-c']);

    // Freeze node C (SIGSTOP): it cannot follow the next regeneration.
    late.process.kill('SIGSTOP');
    try {
      const regenerated = await api(`${nodes['node-a'].url}/admin/keys/signing/regenerate`, { method: 'POST', auth: admin });
      cluster = await waitFor(async () => {
        const view = (await api(`${nodes['node-a'].url}/admin/cluster/keys`, { auth: admin })).body;
        return view.nodes.find((n: { nodeId: string }) => n.nodeId === 'node-b').matches && view;
      }, 15_000, 'node B to follow');
      const stale = cluster.nodes.find((n: { nodeId: string }) => n.nodeId === 'node-c');
      expect(cluster.allMatch).toBe(false);
      expect(stale).toMatchObject({ matches: false, keys: { signing: { matches: false }, encryption: { matches: true } } });
      expect(cluster.keyRing.signing.fingerprint).toBe(regenerated.body.fingerprint);
    } finally {
      late.process.kill('SIGCONT');
    }
    await waitFor(async () => (await api(`${nodes['node-a'].url}/admin/cluster/keys`, { auth: admin })).body.allMatch, 30_000, 'node C to catch up');
  });

  (cluster ? it.skip : it)('embedded: restarted, the node holds the same keys, and a token issued before the restart stays valid', async () => {
    const reference = await keysOf(nodes['node-a']);
    const before = await clientCredentialsToken(nodes['node-a'].url, service);
    nodes['node-a'] = nodes['node-b'] = await d.restart(nodes['node-a']);
    const after = await keysOf(nodes['node-a']);
    expect(after).toMatchObject({ clusterId: reference.clusterId, signing: reference.signing, encryption: reference.encryption });
    expect(after.node).toMatchObject({ signing: reference.signing.fingerprint, encryption: reference.encryption.fingerprint });
    expect(await active(nodes['node-a'], before)).toBe(true);
  });

  describe('key distribution to resource servers', () => {
    beforeAll(async () => {
      for (const [userId, roles] of [['vm-server', ['key-reader']], ['nobody', []]] as const) {
        const created = await api(`${nodes['node-a'].url}/admin/users`, { method: 'POST', auth: admin, body: { userId, password: 'resource-password', roles } });
        expect(created.status).toBe(201);
      }
    });

    it('serves the public signing key as JWKS to anyone', async () => {
      const jwks = await api(`${nodes['node-b'].url}/oauth/jwks`);
      const ring = await keysOf(nodes['node-b']);
      expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: ring.signing.kid, alg: 'RS256', use: 'sig' })]);
      expect(jwks.body.keys[0].d).toBeUndefined();
    });

    it('gives both keys to a key-reader, 401 without or with wrong credentials, 403 to another account', async () => {
      const url = `${nodes['node-b'].url}/oauth/keys`;
      expect((await api(url)).status).toBe(401);
      expect((await api(url, { auth: basic('vm-server', 'wrong-password') })).status).toBe(401);
      expect((await api(url, { auth: basic('nobody', 'resource-password') })).status).toBe(403);
      const keys = await api(url, { auth: basic('vm-server', 'resource-password') });
      expect(keys.status).toBe(200);
      const ring = await keysOf(nodes['node-b']);
      expect(keys.body.keys.map((k: { kid: string; kty: string }) => [k.kty, k.kid])).toEqual([
        ['RSA', ring.signing.kid],
        ['oct', ring.encryption.kid],
      ]);
    });
  });

  it('lets a resource server validate locally with keys fetched from the first authz node that answers', async () => {
    const deadNode = `http://127.0.0.1:${await freePort()}`;
    const credentials = { username: 'vm-server', password: 'resource-password' };
    const validator = new TokenValidator({ servers: [{ url: deadNode, credentials }, { url: nodes['node-b'].url, credentials }], unknownKidRefetchIntervalMs: 0 });
    const before = await clientCredentialsToken(nodes['node-a'].url, service);
    expect(await validator.validate(before)).toMatchObject({ valid: true, claims: { sub: 'voicemail', client_id: 'voicemail' } });
    expect(validator.status().clusters.map((c) => c.from)).toEqual([nodes['node-b'].url]);
    expect(await validator.validate(before.slice(0, -4) + 'AAAA')).toMatchObject({ valid: false, code: 'bad_signature' });

    await api(`${nodes['node-a'].url}/admin/keys/signing/regenerate`, { method: 'POST', auth: admin });
    const after = await clientCredentialsToken(nodes['node-a'].url, service);
    await waitFor(async () => (await validator.validate(after)).valid, 15_000, 'the validator to fetch the new key');
    expect(await validator.validate(before)).toMatchObject({ valid: false, code: 'unknown_key' });
    await validator.close();
    const wrongCredentials = new TokenValidator({ servers: [{ url: nodes['node-b'].url, credentials: { username: 'vm-server', password: 'nope-nope' } }] });
    expect(await wrongCredentials.validate(after)).toMatchObject({ valid: false, code: 'keys_unavailable', reason: expect.stringContaining('HTTP 401') });
    await wrongCredentials.close();
  });

  (cluster ? it : it.skip)('cluster: never lets plaintext key material out: not on Kafka, not in the events table, not in a log line', async () => {
    const kek = d.kek!;
    const client = new pg.Client({ connectionString: d.databaseUrl });
    await client.connect();
    const { rows } = await client.query(`SELECT data::text AS data, data AS json FROM events WHERE type = 'KeyRegenerated'`);
    await client.end();
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const secrets: string[] = [kek.toString('base64'), kek.toString('hex')];
    for (const { json } of rows) {
      const wrapped = json.wrapped;
      const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(wrapped.iv, 'base64url'))
        .setAAD(Buffer.from(json.kid))
        .setAuthTag(Buffer.from(wrapped.tag, 'base64url'));
      const material = Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64url')), decipher.final()]);
      secrets.push(material.toString('base64'), material.toString('base64url'), material.toString('hex'));
      if (json.kind === 'signing') {
        const jwk = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
        secrets.push(jwk.d!, jwk.p!, jwk.q!);
      }
    }
    const received = listener!.received;
    await waitFor(() => received.filter((r: Received) => r.event.type === 'KeyRegenerated').length >= rows.length, 30_000, 'key events on Kafka');
    const kafkaText = received.map((r) => JSON.stringify(r)).join('\n');
    const eventsText = rows.map((r) => r.data).join('\n');
    const logs = [...new Set([...d.nodes, ...Object.values(nodes)])].map((n) => n.output()).join('\n');
    expect(logs).toContain('key cache: now holds');
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(kafkaText.includes(secret)).toBe(false);
      expect(eventsText.includes(secret)).toBe(false);
      expect(logs.includes(secret)).toBe(false);
    }
  });

  (cluster ? it : it.skip)('cluster: refuses to start in cluster mode without the key-encryption key', async () => {
    const { AUTHZ_KEK: _, ...withoutKek } = d.env;
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['dist/apps/authz-server/src/main.js'], { env: { PATH: process.env.PATH, ...withoutKek, AUTHZ_PORT: '0' } }, (_e, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    expect(result.code).toBe(2);
    // The logging contract: one JSON line on stdout, level fatal, naming what is missing.
    const fatal = result.stdout.trim().split('\n').map((line) => JSON.parse(line)).find((line) => line.level === 'fatal');
    expect(fatal?.message).toContain('AUTHZ_KEK');
    expect(result.stderr).toBe('');
  });
});

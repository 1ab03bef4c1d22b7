import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDeployment, type Deployment } from '../support/deployment';
import { ROOT } from '../support/infra';
import { clientCredentialsToken, serviceClient } from '../support/oauth';
import { api } from '../support/processes';

const run = promisify(execFile);

/**
 * @authz/token-validator as a third party gets it: `npm pack` of libs/token-validator, installed
 * from the tarball into an empty folder, and its README's example run there against a real
 * authz server (embedded mode), with a valid token and a forged one.
 */
describe('@authz/token-validator, packed and installed', () => {
  let d: Deployment;
  let folder: string;
  let service: { clientId: string; clientSecret: string };
  const reader = { userId: 'voicemail-keys', password: 'voicemail-keys-password' };

  beforeAll(async () => {
    d = await startDeployment('embedded', { name: 'tvpkg' });
    const created = await api(`${d.a.url}/admin/users`, { method: 'POST', auth: d.admin, body: { ...reader, roles: ['key-reader'] } });
    expect(created.status).toBe(201);
    service = await serviceClient(d.a.url, d.admin, 'voicemail', 'vm.read');

    folder = mkdtempSync(join(tmpdir(), 'authz-validator-pkg-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', folder], { cwd: join(ROOT, 'libs/token-validator') });
    const [{ filename, files }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    expect(files.some((f) => f.path.startsWith('src/'))).toBe(false);
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'resource-server', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(folder, filename)], { cwd: folder });
  });

  afterAll(async () => {
    await d?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  const example = () => {
    const readme = readFileSync(join(ROOT, 'libs/token-validator/README.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(readme)![1];
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(10);
    return code;
  };

  const runExample = async (token: string) => {
    writeFileSync(join(folder, 'example.mjs'), example());
    const { stdout } = await run(process.execPath, ['example.mjs'], {
      cwd: folder,
      env: { PATH: process.env.PATH, AUTHZ_URL: d.a.url, AUTHZ_USER: reader.userId, AUTHZ_PASSWORD: reader.password, TOKEN: token },
    });
    return stdout.trim();
  };

  it('installs with nothing of the repository: no path alias, no server code, only its own files', () => {
    const installed = join(folder, 'node_modules/@authz/token-validator');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    for (const file of readdirSync(join(installed, 'dist')).filter((f) => f.endsWith('.js'))) {
      const source = readFileSync(join(installed, 'dist', file), 'utf8');
      const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
      expect(imports.filter((specifier) => !/^(\.\/[\w-]+\.js|node:[\w/]+)$/.test(specifier))).toEqual([]);
    }
  });

  it('runs the README example against a real authz server: a token it issued is valid, a forged one refused', async () => {
    const token = await clientCredentialsToken(d.a.url, service);
    const clusterId = (await api(`${d.a.url}/admin/keys`, { auth: d.admin })).body.clusterId;
    expect(await runExample(token)).toBe(`valid: voicemail of cluster ${clusterId}, scope vm.read`);
    expect(await runExample(token.slice(0, -6) + 'AAAAAA')).toMatch(/^refused: bad_signature \(/);
  });
});

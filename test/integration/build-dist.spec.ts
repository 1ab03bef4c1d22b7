import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from '../support/infra';

/**
 * scripts/build-dist.sh, what `npm start` builds with: nothing when the tree is up to date, else
 * a build in a folder beside it that replaces it whole, so that a server or a CLI starting
 * meanwhile never reads a half-written tree. It runs in a copy of the sources (node_modules
 * linked), so that neither the repository's dist/, which other suites run from, nor edits made
 * in the working tree meanwhile change what it sees; it builds into a temporary target.
 */
describe('scripts/build-dist.sh', () => {
  let root: string;
  let parent: string;
  let target: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'authz-build-dist-root-'));
    mkdirSync(join(root, 'scripts'));
    const skip = (path: string) => !/[/\\](dist|node_modules)([/\\]|$)/.test(path.slice(ROOT.length));
    for (const entry of ['apps', 'libs', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'scripts/build-dist.sh']) {
      cpSync(join(ROOT, entry), join(root, entry), { recursive: true, filter: skip });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    parent = mkdtempSync(join(tmpdir(), 'authz-build-dist-'));
    target = join(parent, 'dist');
  });

  afterAll(() => {
    rmSync(parent, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  function buildDist(onTick?: () => void): Promise<{ code: number | null; stderr: string }> {
    return new Promise((done, fail) => {
      const child = spawn('bash', [resolve(root, 'scripts/build-dist.sh'), target], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const ticker = onTick ? setInterval(onTick, 2) : undefined;
      child.once('error', fail);
      child.once('close', (code) => {
        if (ticker) clearInterval(ticker);
        done({ code, stderr });
      });
    });
  }

  const main = () => join(target, 'apps/authz-server/src/main.js');

  it('builds a complete tree the first time', async () => {
    const run = await buildDist();
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining(`built ${target}`) });
    for (const file of ['apps/authz-server/src/main.js', 'apps/projector/src/main.js', 'apps/authz-cli/src/main.js', '.build-started', '.build-done']) {
      expect(existsSync(join(target, file))).toBe(true);
    }
    // The aliases are resolved, as by npm run build.
    expect(statSync(main()).size).toBeGreaterThan(0);
    expect(readdirSync(parent)).toEqual(['dist']);
  });

  it('does not build again when nothing changed: the tree is left alone', async () => {
    const before = statSync(main());
    const run = await buildDist();
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining('up to date') });
    const after = statSync(main());
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
  });

  it('builds again after the tree was rewritten in place, and the tree is whole at every moment of it', async () => {
    // As `npm run build` (or an editor) would leave it: a file newer than the build's end.
    const later = new Date(Date.now() + 5_000);
    utimesSync(main(), later, later);
    const before = statSync(main()).ino;
    const seen = { whole: 0, absent: 0, partial: 0 };
    const run = await buildDist(() => {
      if (!existsSync(target)) seen.absent++;
      else if (existsSync(join(target, '.build-done')) && existsSync(main())) seen.whole++;
      else seen.partial++;
    });
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining(`built ${target}`) });
    expect(seen.partial).toBe(0);
    expect(seen.whole).toBeGreaterThan(10);
    expect(statSync(main()).ino).not.toBe(before);
    // No build folder or old tree is left beside it.
    expect(readdirSync(parent)).toEqual(['dist']);
    expect((await buildDist()).stderr).toContain('up to date');
  });

  it('builds again when a source changed since the last build began', async () => {
    const later = new Date(Date.now() + 10_000);
    utimesSync(join(root, 'libs/domain/src/errors.ts'), later, later);
    expect((await buildDist()).stderr).toContain(`built ${target}`);
  });
});

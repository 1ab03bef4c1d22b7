/**
 * Token throughput against the machine's raw RSA-2048 capacity. The issue's goal: validation
 * ≥ 50% of the raw verify rate of the whole machine, minting ≥ 60% of the raw sign rate.
 *
 * Raw capacity is measured two ways, and the higher figure is the yardstick:
 * - one worker thread per core, each calling node:crypto synchronously;
 * - the main thread keeping 64 asynchronous calls in flight on the libuv thread pool.
 * Tokens are measured the two ways a server can use every core:
 * - one event loop, 64 requests in flight, RSA on the libuv pool (a single Nest process);
 * - one event loop per core (worker threads here, cluster in production), RSA verified inline.
 * Validation always gets tokens it has not seen (4096 distinct ones, no cache) unless the
 * line says SignatureCache. "before" is jose used plainly, the starting point of the issue.
 * The package @authz/token-validator (what a resource server embeds, keys fetched once through
 * its `fetch` option) is measured with its default settings on tokens it has seen before (its
 * cache of validated tokens by exact text, expiry checked on every hit: a client reuses its
 * token until it expires), and with that cache off, so that every call verifies and decrypts.
 *
 *   npm run bench -- tokens           BENCH_SECONDS=2 BENCH_ROUNDS=3 by default
 *
 * The machine may be shared: ratios are taken within each round and their median reported,
 * and CPU µs/op (all threads of this process) is shown, which other load hardly moves.
 */
import { sign, verify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { compactDecrypt, compactVerify } from 'jose';
import { TokenValidator } from '@authz/token-validator';
import {
  createKeyRing,
  exportEncryptionJwk,
  exportPublicJwk,
  exportSigningPrivatePem,
  generateEncryptionKey,
  generateSigningKey,
  importEncryptionKey,
  importSigningKey,
  mintAccessToken,
  SignatureCache,
  validateAccessToken,
  type KeyRing,
  type MintingKeys,
  type ValidationOptions,
} from '@authz/tokens';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 0.3;
const IN_FLIGHT = 64;
const IN_FLIGHT_PER_WORKER = 8;
const CORES = availableParallelism();
const CLUSTER = 'bench-cluster';
const DISTINCT_TOKENS = 4096;

/** What a worker thread runs: raw node:crypto, or validation with inline RSA. */
type WorkerTask =
  | { task: 'raw'; op: 'sign' | 'verify'; pem: string; data: Uint8Array; signature: Uint8Array }
  | { task: 'validate'; pem: string; secret: Uint8Array; tokens: string[] };

function loopSync(op: () => unknown, seconds: number): number {
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) op();
    count += 10;
  }
  return (count * 1000) / (performance.now() - start);
}

/** Keeps `inFlight` calls of `op` going for `seconds`; returns ops/s. */
async function loopAsync(op: (i: number) => Promise<unknown>, seconds: number, inFlight: number): Promise<number> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  const lane = async () => {
    while (performance.now() < end) await op(count++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return (count * 1000) / (performance.now() - start);
}

/** Ops/s, and the CPU time the whole process (every thread) spent per op: other load on the machine hardly moves the latter. */
interface Rate {
  perSecond: number;
  cpuMicros: number;
}

async function timed(run: () => Promise<number>): Promise<Rate> {
  const [cpuStart, start] = [process.cpuUsage(), performance.now()];
  const perSecond = await run();
  const { user, system } = process.cpuUsage(cpuStart);
  return { perSecond, cpuMicros: (user + system) / ((perSecond * (performance.now() - start)) / 1000) };
}

async function measure(op: (i: number) => Promise<unknown>, inFlight = IN_FLIGHT): Promise<Rate> {
  await loopAsync(op, WARMUP_SECONDS, inFlight);
  return timed(() => loopAsync(op, SECONDS, inFlight));
}

/** One worker per core, each warmed up, then started together; returns the summed ops/s. */
async function onWorkers(task: WorkerTask): Promise<Rate> {
  const workers = Array.from({ length: CORES }, () => new Worker(new URL(import.meta.url), { workerData: task }));
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))));
  const rate = await timed(async () => {
    const rates = workers.map((w) => new Promise<number>((resolve) => w.once('message', resolve)));
    for (const w of workers) w.postMessage('go');
    return (await Promise.all(rates)).reduce((a, b) => a + b, 0);
  });
  await Promise.all(workers.map((w) => w.terminate()));
  return rate;
}

const valid = (result: { valid: boolean }) => {
  if (!result.valid) throw new Error(`validation failed: ${JSON.stringify(result)}`);
};

async function inWorker(task: WorkerTask): Promise<() => Promise<number>> {
  const signing = importSigningKey(CLUSTER, task.pem);
  if (task.task === 'raw') {
    const data = Buffer.from(task.data);
    const signature = Buffer.from(task.signature);
    const op = task.op === 'sign' ? () => sign('sha256', data, signing.privateKey) : () => verify('sha256', data, signing.publicKey, signature);
    loopSync(op, WARMUP_SECONDS);
    return async () => loopSync(op, SECONDS);
  }
  const ring = createKeyRing([signing], [importEncryptionKey(CLUSTER, task.secret)]);
  const options: ValidationOptions = { issuer: CLUSTER, verifyInline: true };
  const op = (i: number) => validateAccessToken(task.tokens[i % task.tokens.length], ring, options).then(valid);
  await loopAsync(op, WARMUP_SECONDS, IN_FLIGHT_PER_WORKER);
  return () => loopAsync(op, SECONDS, IN_FLIGHT_PER_WORKER);
}

/** The starting point: jose used plainly, keys imported once (a CryptoKey and the raw secret). */
async function naiveJose(keys: MintingKeys, tokens: string[]): Promise<(i: number) => Promise<void>> {
  const publicKey = await crypto.subtle.importKey(
    'spki',
    keys.signing.publicKey.export({ type: 'spki', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const secret = new Uint8Array(keys.encryption.secret.export());
  return async (i) => {
    const outer = await compactVerify(tokens[i % tokens.length], publicKey, { algorithms: ['RS256'] });
    const jwe = JSON.parse(new TextDecoder().decode(outer.payload)).private;
    await compactDecrypt(jwe, secret, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A128CBC-HS256'] });
  };
}

async function main(): Promise<void> {
  const keys: MintingKeys = { signing: await generateSigningKey(CLUSTER), encryption: generateEncryptionKey(CLUSTER) };
  const ring: KeyRing = createKeyRing([keys.signing], [keys.encryption]);
  const input = { sub: 'alice@example.com', client_id: 'C3b0affefe1439041683e9c2c37d36f438ef0ef27c0938adc6226e0c03d169f2a', scope: 'openid profile voicemail' };
  const pem = exportSigningPrivatePem(keys.signing);
  const secret = new Uint8Array(keys.encryption.secret.export());

  const tokens: string[] = [];
  const mint = async () => {
    const { token } = await mintAccessToken(keys, input, 3600);
    if (tokens.length < DISTINCT_TOKENS) tokens.push(token);
  };
  while (tokens.length < DISTINCT_TOKENS) await Promise.all(Array.from({ length: IN_FLIGHT }, mint));

  // The raw operations sign and verify what a real token signs: its header and payload.
  const sample = tokens[0];
  const data = Buffer.from(sample.slice(0, sample.lastIndexOf('.')));
  const signature = Buffer.from(sample.slice(sample.lastIndexOf('.') + 1), 'base64url');
  const rawPool = (op: 'sign' | 'verify') =>
    measure(() =>
      op === 'sign'
        ? new Promise((resolve, reject) => sign('sha256', data, keys.signing.privateKey, (e, s) => (e ? reject(e) : resolve(s))))
        : new Promise((resolve, reject) => verify('sha256', data, keys.signing.publicKey, signature, (e, ok) => (e ? reject(e) : resolve(ok)))),
    );

  const options: ValidationOptions = { issuer: CLUSTER };
  const cached: ValidationOptions = { ...options, cache: new SignatureCache(DISTINCT_TOKENS) };
  const validate = (opts: ValidationOptions) => (i: number) => validateAccessToken(tokens[i % tokens.length], ring, opts).then(valid);

  // The package, as a resource server runs it: keys fetched once from "authz" (here a fetch that
  // answers what GET /oauth/keys would), everything else its defaults.
  const keySet = JSON.stringify({ issuer: CLUSTER, keys: [exportPublicJwk(keys.signing), exportEncryptionJwk(keys.encryption)] });
  const packaged = (extra: { cacheSize?: number } = {}) =>
    new TokenValidator({
      servers: [{ url: 'http://authz.invalid', credentials: { username: 'bench', password: 'bench' } }],
      fetch: async () => new Response(keySet, { headers: { 'content-type': 'application/json' } }),
      ...extra,
    });
  const validatorDefault = packaged();
  const validatorNoCache = packaged({ cacheSize: 0 });
  const viaPackage = (validator: TokenValidator) => async (i: number) => {
    const result = await validator.validate(tokens[i % tokens.length]);
    if (!result.valid) throw new Error(`validation failed: ${JSON.stringify(result)}`);
  };

  const results: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const record = (name: string, rate: Rate) => {
    (results[name] ??= []).push(rate.perSecond);
    (cpu[name] ??= []).push(rate.cpuMicros);
  };
  for (let round = 1; round <= ROUNDS; round++) {
    record('verify.workers', await onWorkers({ task: 'raw', op: 'verify', pem, data, signature }));
    record('verify.pool', await rawPool('verify'));
    record('validate.pool', await measure(validate(options)));
    record('validate.workers', await onWorkers({ task: 'validate', pem, secret, tokens }));
    record('validate.cached', await measure(validate(cached)));
    record('package.default', await measure(viaPackage(validatorDefault)));
    record('package.nocache', await measure(viaPackage(validatorNoCache)));
    record('sign.workers', await onWorkers({ task: 'raw', op: 'sign', pem, data, signature }));
    record('sign.pool', await rawPool('sign'));
    record('mint', await measure(mint));
    process.stderr.write(`round ${round}/${ROUNDS}\n`);
  }
  record('validate.naive', await measure(await naiveJose(keys, tokens)));
  await Promise.all([validatorDefault.close(), validatorNoCache.close()]);

  // Other processes may share the machine: each ratio is taken within one round, and the
  // median over rounds is reported, so a burst of load elsewhere moves it less.
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const m = (name: string) => median(results[name]);
  const capacity = (kind: 'verify' | 'sign', i: number) => Math.max(results[`${kind}.workers`][i], results[`${kind}.pool`][i]);
  const ratio = (name: string, kind: 'verify' | 'sign') => {
    const perRound = results[name].map((value, i) => value / capacity(kind, Math.min(i, ROUNDS - 1)));
    return { median: median(perRound), rounds: perRound.map((r) => r.toFixed(2)).join(' ') };
  };
  const line = (label: string, name: string, note = '') =>
    console.log(
      `${label.padEnd(68)}${Math.round(m(name)).toLocaleString('en-US').padStart(8)} ops/s ` +
        `${median(cpu[name]).toFixed(0).padStart(5)} µs CPU/op  ${note}`,
    );
  const vs = (name: string, kind: 'verify' | 'sign', goal?: number) => {
    const { median: r, rounds } = ratio(name, kind);
    // Rounded down, so that a figure shown as meeting the goal does.
    return `${Math.floor(r * 100)}% of raw ${kind}${goal ? ` (goal ≥ ${goal}%: ${r * 100 >= goal ? 'met' : 'NOT met'})` : ''}  [rounds: ${rounds}]`;
  };
  const best = (kind: 'verify' | 'sign', way: 'workers' | 'pool') =>
    m(`${kind}.${way}`) >= m(`${kind}.${way === 'workers' ? 'pool' : 'workers'}`) ? '← the higher: the yardstick' : '';

  console.log(
    `tokens: ${CORES} cores, node ${process.version}, libuv pool ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ` +
      `${ROUNDS} rounds × ${SECONDS} s; ops/s are medians, ratios are medians of per-round ratios`,
  );
  line(`raw RSA-2048 verify: ${CORES} worker threads, sync`, 'verify.workers', best('verify', 'workers'));
  line(`raw RSA-2048 verify: event loop → libuv pool, ${IN_FLIGHT} in flight`, 'verify.pool', best('verify', 'pool'));
  line(`raw RSA-2048 sign:   ${CORES} worker threads, sync`, 'sign.workers', best('sign', 'workers'));
  line(`raw RSA-2048 sign:   event loop → libuv pool, ${IN_FLIGHT} in flight`, 'sign.pool', best('sign', 'pool'));
  line(`mintAccessToken: event loop → libuv pool, ${IN_FLIGHT} in flight`, 'mint', vs('mint', 'sign', 60));
  line(`validateAccessToken: event loop → libuv pool, ${IN_FLIGHT} in flight`, 'validate.pool', vs('validate.pool', 'verify', 50));
  line(`validateAccessToken: ${CORES} worker threads, verifyInline`, 'validate.workers', vs('validate.workers', 'verify', 50));
  line('validateAccessToken: event loop, SignatureCache, tokens seen before', 'validate.cached', vs('validate.cached', 'verify'));
  line('before: jose compactVerify + compactDecrypt, event loop', 'validate.naive', vs('validate.naive', 'verify'));
  line('@authz/token-validator, defaults, event loop, tokens seen before', 'package.default', vs('package.default', 'verify', 50));
  line('@authz/token-validator, cacheSize 0: every token new, event loop', 'package.nocache', vs('package.nocache', 'verify', 50));

  // What the ratios would be on an idle machine if every way kept all cores busy: the raw CPU
  // cost per op (the cheaper way) over the token's. An upper bound for the event-loop way.
  const cpuCost = (kind: 'verify' | 'sign') => Math.min(median(cpu[`${kind}.workers`]), median(cpu[`${kind}.pool`]));
  const cpuRatio = (name: string, kind: 'verify' | 'sign') => `${Math.floor((cpuCost(kind) / median(cpu[name])) * 100)}%`;
  console.log(
    `CPU-time ratios: mint/raw-sign ${cpuRatio('mint', 'sign')}, validate/raw-verify ${cpuRatio('validate.pool', 'verify')} (event loop), ` +
      `${cpuRatio('validate.workers', 'verify')} (verifyInline), before ${cpuRatio('validate.naive', 'verify')}`,
  );
}

if (isMainThread) {
  await main();
} else {
  const run = await inWorker(workerData as WorkerTask);
  parentPort!.once('message', async () => parentPort!.postMessage(await run()));
  parentPort!.postMessage('ready');
}

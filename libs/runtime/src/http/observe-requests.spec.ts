import Fastify, { type FastifyInstance } from 'fastify';
import type { Log, LogFields } from '../log';
import { Metrics } from '../metrics/metrics';
import { observeRequests } from './observe-requests';

describe('observeRequests', () => {
  const lines: { message: string; fields?: LogFields }[] = [];
  const log: Log = (_level, message, fields) => lines.push({ message, fields });
  const metrics = new Metrics();
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    app = Fastify();
    observeRequests(app, metrics, log);
    app.post<{ Params: { id: string } }>('/items/:id', async (request, reply) => {
      await new Promise((r) => setTimeout(r, 2));
      return reply.code(201).send({ id: request.params.id, body: request.body, correlationId: request.correlationId });
    });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(() => app.close());
  beforeEach(() => (lines.length = 0));

  const post = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"secret":"s3cr3t"}' });

  const accessLine = async () => {
    for (let i = 0; i < 100 && !lines.some((l) => l.fields?.route); i++) await new Promise((r) => setTimeout(r, 5));
    return lines.find((l) => l.fields?.route)!;
  };

  it("echoes the caller's id, hands it to the handler past the body parser, and logs one access line by route pattern", async () => {
    const response = await post('/items/42?token=abc', { 'x-correlation-id': 'req-7', authorization: 'Bearer hidden' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-correlation-id')).toBe('req-7');
    expect(await response.json()).toEqual({ id: '42', body: { secret: 's3cr3t' }, correlationId: 'req-7' });
    const access = await accessLine();
    expect(access.fields).toMatchObject({ method: 'POST', route: '/items/:id', status: 201, correlationId: 'req-7' });
    expect(access.fields!.durationMs).toBeGreaterThan(0);
    const logged = JSON.stringify(lines);
    for (const secret of ['abc', 'hidden', 's3cr3t', '/items/42']) expect(logged).not.toContain(secret);
  });

  it('replaces a malformed id with a new one, used in the log and the header alike', async () => {
    const response = await post('/items/1', { 'x-correlation-id': 'x'.repeat(65) });
    const id = response.headers.get('x-correlation-id')!;
    expect(id).not.toContain('xxx');
    expect((await accessLine()).fields?.correlationId).toBe(id);
  });

  it('labels unknown paths "unmatched" and records the latency by method, route and status', async () => {
    await fetch(`${url}/no/such/path-with-an-id-123`);
    expect((await accessLine()).fields).toMatchObject({ method: 'GET', route: 'unmatched', status: 404 });
    const text = await metrics.text();
    expect(text).toMatch(/authz_http_request_duration_seconds_count\{method="POST",route="\/items\/:id",status="201"\} [1-9]/);
    expect(text).toMatch(/authz_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    expect(text).not.toContain('path-with-an-id-123');
  });
});

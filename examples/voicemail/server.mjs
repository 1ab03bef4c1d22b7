// A voicemail server (the resource server of seed 000): every /voicemails route needs a
// bearer access token of one of the configured authz clusters, validated locally by
// @authz/token-validator. Configuration: VOICEMAIL_CONFIG, a JSON file
//   { "servers": [{ "url": "https://authz-a1:8443", "credentials": { "username": "…", "password": "…" } }, …] }
// (several URLs of one cluster fail over, URLs of other clusters add clusters), and PORT.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { TokenValidator } from '@authz/token-validator';

const config = JSON.parse(readFileSync(process.env.VOICEMAIL_CONFIG ?? 'voicemail.json', 'utf8'));
const validator = new TokenValidator(config);
const mailboxes = new Map(); // `${clusterId}/${user}` → messages

function send(response, status, body, headers = {}) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

/** RFC 6750: the caller's claims and cluster, or an answer already sent. */
async function authenticate(request, response, scope) {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(request.headers.authorization ?? '');
  if (!match) {
    send(response, 401, { error: 'invalid_request', error_description: 'a bearer token is needed' }, { 'www-authenticate': 'Bearer realm="voicemail"' });
    return undefined;
  }
  const result = await validator.validate(match[1]);
  if (!result.valid) {
    const challenge = `Bearer realm="voicemail", error="invalid_token", error_description="${result.reason.replace(/"/g, "'")}"`;
    send(response, 401, { error: 'invalid_token', code: result.code, error_description: result.reason }, { 'www-authenticate': challenge });
    return undefined;
  }
  if (!result.claims.scope.split(' ').includes(scope)) {
    send(response, 403, { error: 'insufficient_scope', scope }, { 'www-authenticate': `Bearer realm="voicemail", error="insufficient_scope", scope="${scope}"` });
    return undefined;
  }
  return result;
}

const server = createServer(async (request, response) => {
  try {
    const url = new URL(request.url, 'http://voicemail');
    if (request.method === 'GET' && url.pathname === '/health') return send(response, 200, { status: 'ok' });
    if (request.method === 'GET' && url.pathname === '/keys') return send(response, 200, validator.status());
    if (request.method === 'POST' && url.pathname === '/keys/sync') return send(response, 200, await validator.sync());
    if (url.pathname === '/voicemails' && (request.method === 'GET' || request.method === 'POST')) {
      const caller = await authenticate(request, response, request.method === 'GET' ? 'vm.read' : 'vm.write');
      if (!caller) return;
      const box = `${caller.clusterId}/${caller.claims.sub}`;
      if (!mailboxes.has(box)) mailboxes.set(box, []);
      if (request.method === 'POST') mailboxes.get(box).push({ at: new Date().toISOString(), from: caller.claims.client_id });
      return send(response, 200, { user: caller.claims.sub, cluster: caller.clusterId, client: caller.claims.client_id, messages: mailboxes.get(box) });
    }
    send(response, 404, { error: 'not_found' });
  } catch {
    send(response, 500, { error: 'server_error' });
  }
});

server.listen(Number(process.env.PORT ?? 8200), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`voicemail listening on http://${process.env.HOST ?? '127.0.0.1'}:${server.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    void validator.close().then(() => process.exit(0));
  });
}

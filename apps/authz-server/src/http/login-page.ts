const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const AUTHORIZATION_FIELDS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'];

/** A plain login form; the authorization request travels in hidden fields to POST /oauth/authorize. */
export function loginPage(params: Record<string, unknown>, clientName: string, message?: string): string {
  const hidden = AUTHORIZATION_FIELDS.filter((name) => typeof params[name] === 'string')
    .map((name) => `<input type="hidden" name="${name}" value="${escape(params[name] as string)}">`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title><meta name="viewport" content="width=device-width"></head>
<body>
  <main>
    <h1>Sign in</h1>
    <p>${escape(clientName)} asks to act on your behalf.</p>
    ${message ? `<p role="alert">${escape(message)}</p>` : ''}
    <form method="post" action="/oauth/authorize">
      ${hidden}
      <label>Username <input name="username" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>
  </main>
</body>
</html>`;
}

export function errorPage(error: string, description: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><main><h1>Authorization error</h1><p><code>${escape(error)}</code>: ${escape(description)}</p></main></body></html>`;
}

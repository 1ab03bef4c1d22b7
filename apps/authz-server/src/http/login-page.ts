import { AUTHORIZATION_FIELDS, CSRF_FIELD } from './signin-csrf';
import { STYLESHEET_HREF } from './signin-style';

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// Longer than any user id the directories accept: not worth echoing back.
const MAX_ECHOED_USERNAME = 256;

export interface SignInView {
  /** The authorization request as received; it travels in hidden fields to POST /oauth/authorize. */
  params: Record<string, unknown>;
  clientName: string;
  /** The scopes the client gets if the user signs in. */
  scopes: string[];
  /** The validated redirect URI: the user is told where they will go back to. */
  redirectUri: string;
  csrfToken: string;
  /** What the user typed, kept after a failed attempt. */
  username?: string;
  error?: string;
}

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escape(title)}</title>
  <link rel="stylesheet" href="${STYLESHEET_HREF}">
</head>
<body>
  <main class="card">
    <p class="brand">authz</p>
${main}
  </main>
</body>
</html>`;
}

/** Where the user goes back to, as a person recognises it: the host, or an app's own scheme. */
function destination(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.host || url.protocol.slice(0, -1);
}

/**
 * The sign-in form. Without script: autofocus goes to the first empty field, and an error is
 * in a role="alert" region that both fields name in aria-describedby, so a screen reader reads
 * it with the field that has the focus.
 */
export function loginPage(view: SignInView): string {
  const hidden = AUTHORIZATION_FIELDS.filter((name) => typeof view.params[name] === 'string')
    .map((name) => `<input type="hidden" name="${name}" value="${escape(view.params[name] as string)}">`)
    .concat(`<input type="hidden" name="${CSRF_FIELD}" value="${escape(view.csrfToken)}">`)
    .join('\n      ');
  const username = view.username && view.username.length <= MAX_ECHOED_USERNAME ? view.username : '';
  const invalid = view.error ? ' aria-invalid="true" aria-describedby="signin-error"' : '';
  const scopes = view.scopes.length
    ? `<ul class="scopes" aria-labelledby="scopes-heading">${view.scopes.map((s) => `<li>${escape(s)}</li>`).join('')}</ul>`
    : '<p>No particular permissions.</p>';
  const client = escape(view.clientName);
  return page(
    `Sign in to continue to ${view.clientName}`,
    `    <h1>Sign in</h1>
    <p class="lead">to continue to <strong>${client}</strong></p>
    <h2 id="scopes-heading">${client} asks for</h2>
    ${scopes}
    ${view.error ? `<p id="signin-error" class="alert" role="alert">${escape(view.error)}</p>` : ''}
    <form method="post" action="/oauth/authorize">
      ${hidden}
      <div class="field">
        <label for="username">Username</label>
        <input id="username" name="username" type="text" value="${escape(username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required${username ? '' : ' autofocus'}${invalid}>
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}${invalid}>
      </div>
      <button type="submit">Sign in</button>
    </form>
    <p class="note">After you sign in, you go back to <strong>${escape(destination(view.redirectUri))}</strong>. Sign in only if you trust it.</p>`,
  );
}

export function errorPage(error: string, description: string): string {
  return page(
    'Authorization error',
    `    <h1>Authorization error</h1>
    <p class="alert" role="alert">${escape(description)}</p>
    <p class="note">Error code: <code>${escape(error)}</code>. Go back to the application and start again.</p>`,
  );
}

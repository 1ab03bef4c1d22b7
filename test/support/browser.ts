/**
 * What a browser does with the authorization server's login page, and nothing more: load the
 * page, read its <form> (method, action, every input with its value), fill in the fields a
 * person would type, submit it to the form's action resolved against the page's URL, carrying
 * any cookies the page set, and answer where the server redirects. It knows nothing about the
 * field names the server uses beyond what the HTML says.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') return String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attributes(tag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
    result[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return result;
}

export interface HtmlForm {
  method: string;
  action: URL;
  /** Every named input in document order, with its value attribute (hidden fields included). */
  inputs: Array<{ name: string; type: string; value: string }>;
}

/** The first <form> of a page, its action resolved against the page's URL as a browser would. */
export function parseForm(html: string, pageUrl: string): HtmlForm {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no <form> on ${pageUrl}:\n${html.slice(0, 500)}`);
  const attrs = attributes(form[1]);
  const inputs = [...form[2].matchAll(/<input\b([^>]*)>/gi)]
    .map((m) => attributes(m[1]))
    .filter((a) => a.name)
    .map((a) => ({ name: a.name, type: (a.type || 'text').toLowerCase(), value: a.value ?? '' }));
  return { method: (attrs.method || 'get').toUpperCase(), action: new URL(attrs.action ?? '', pageUrl), inputs };
}

function cookies(response: Response): string[] {
  return response.headers.getSetCookie().map((c) => c.split(';')[0]);
}

/**
 * Opens `authorizationUrl`, fills the login form with `typed` (field name → what the person
 * types; each must be a field of the form) and submits it with the page's cookies and, as a
 * browser does on a POST, the page's Origin. Answers the form and the submission's response,
 * its body unread and its redirect not followed.
 */
export async function submitLoginForm(authorizationUrl: URL, typed: Record<string, string>): Promise<{ form: HtmlForm; response: Response }> {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`the authorization endpoint answered ${page.status}, not a login page:\n${html.slice(0, 500)}`);
  if (!/^text\/html\b/i.test(page.headers.get('content-type') ?? '')) throw new Error(`the login page is ${page.headers.get('content-type')}, not text/html`);
  const form = parseForm(html, authorizationUrl.href);
  const names = new Set(form.inputs.map((i) => i.name));
  for (const name of Object.keys(typed)) if (!names.has(name)) throw new Error(`the login form has no field "${name}" (fields: ${[...names].join(', ')})`);
  const fields = new URLSearchParams(form.inputs.map((i): [string, string] => [i.name, typed[i.name] ?? i.value]));
  const jar = cookies(page);
  const headers: Record<string, string> = {};
  if (jar.length) headers.cookie = jar.join('; ');
  let response: Response;
  if (form.method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = authorizationUrl.origin;
    response = await fetch(form.action, { method: 'POST', redirect: 'manual', headers, body: fields.toString() });
  } else {
    const target = new URL(form.action);
    target.search = fields.toString();
    response = await fetch(target, { redirect: 'manual', headers });
  }
  return { form, response };
}

/** submitLoginForm, answering the submission's status, body and the absolute URL of its Location (the callback, when it is a 302). */
export async function signInThroughForm(authorizationUrl: URL, typed: Record<string, string>) {
  const { form, response } = await submitLoginForm(authorizationUrl, typed);
  const location = response.headers.get('location');
  const body = await response.text();
  return {
    form,
    status: response.status,
    location: location === null ? undefined : new URL(location, form.action),
    body,
  };
}

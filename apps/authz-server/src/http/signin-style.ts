import { createHash } from 'node:crypto';

/**
 * The stylesheet of the sign-in and error pages, served by this server (GET /oauth/assets/signin.css)
 * (CSP style-src 'self': no inline style, no CDN). It lives in a module rather than a .css
 * file so that the build needs no copy step.
 */
export const SIGNIN_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f3f4f6; --card: #ffffff; --text: #111827; --muted: #4b5563; --border: #d1d5db;
  --accent: #1d4ed8; --accent-text: #ffffff; --focus: #f59e0b;
  --error-bg: #fef2f2; --error-border: #dc2626; --error-text: #991b1b;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111827; --card: #1f2937; --text: #f9fafb; --muted: #d1d5db; --border: #4b5563;
    --accent: #60a5fa; --accent-text: #0b1220;
    --error-bg: #3b1212; --error-border: #f87171; --error-text: #fecaca;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
  padding: 1.5rem 1rem; background: var(--bg); color: var(--text);
  font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif;
}
.card {
  width: 100%; max-width: 26rem; padding: 2rem; background: var(--card);
  border: 1px solid var(--border); border-radius: 0.75rem; box-shadow: 0 1px 3px rgb(0 0 0 / 0.12);
}
.brand { margin: 0 0 1rem; font-size: 0.875rem; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; color: var(--muted); }
h1 { margin: 0 0 0.25rem; font-size: 1.5rem; line-height: 1.25; }
h2 { margin: 1.25rem 0 0.5rem; font-size: 1rem; }
p { margin: 0.5rem 0; }
.lead { color: var(--muted); overflow-wrap: anywhere; }
.lead strong, .note strong { color: var(--text); }
.scopes { margin: 0 0 1.25rem; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 0.375rem; }
.scopes li {
  padding: 0.125rem 0.625rem; border: 1px solid var(--border); border-radius: 999px;
  font: 0.875rem/1.6 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere;
}
.alert {
  margin: 0 0 1rem; padding: 0.75rem 1rem; border: 1px solid var(--error-border); border-left-width: 4px;
  border-radius: 0.375rem; background: var(--error-bg); color: var(--error-text); overflow-wrap: anywhere;
}
.field { margin: 0 0 1rem; }
label { display: block; margin-bottom: 0.25rem; font-weight: 600; }
input[type="text"], input[type="password"] {
  display: block; width: 100%; padding: 0.625rem 0.75rem; font: inherit; color: var(--text);
  background: var(--card); border: 1px solid var(--border); border-radius: 0.375rem;
}
input[aria-invalid="true"] { border-color: var(--error-border); }
button {
  width: 100%; padding: 0.75rem 1rem; font: inherit; font-weight: 600; cursor: pointer;
  color: var(--accent-text); background: var(--accent); border: 0; border-radius: 0.375rem;
}
button:hover { filter: brightness(1.1); }
:focus-visible, input:focus { outline: 3px solid var(--focus); outline-offset: 2px; }
.note { margin-top: 1.25rem; font-size: 0.875rem; color: var(--muted); overflow-wrap: anywhere; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
@media (max-width: 30rem) {
  body { align-items: flex-start; padding: 0; }
  .card { max-width: none; min-height: 100vh; border: 0; border-radius: 0; box-shadow: none; padding: 1.5rem 1.25rem; }
}
`;

// The link carries the content's hash, so a browser never keeps an old stylesheet after an upgrade.
const VERSION = createHash('sha256').update(SIGNIN_CSS).digest('base64url').slice(0, 12);
export const STYLESHEET_HREF = `/oauth/assets/signin.css?v=${VERSION}`;

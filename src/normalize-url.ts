import { InvalidUrlError, describeValue } from './errors.ts';

// Only an explicit `scheme://` counts: the WHATWG parser would also accept
// `ws:host` or `ws:\\host`, which are almost always typos.
const SCHEME_WITH_SLASHES = /^[a-z][a-z\d+.-]*:\/\//i;

// `scheme:` plus any slashes, then the authority up to its last `@` (the
// WHATWG parser treats the last `@` before `/ ? # \` as the userinfo end).
const PARSED_USERINFO = /^(\s*[a-z][a-z\d+.-]*:[/\\]*)([^/\\?#]*)@/i;

// For strings no parser understands: everything up to the last `@`, after the
// first `//` if there is one. Over-redacting garbage is fine; leaking is not.
const LOOSE_USERINFO = /^(.*?\/\/)?(.*)@/s;

// A query: from `?` to a fragment, whitespace or the end (in a bare URL or inside a message).
const QUERY = /\?([^#\s]*)/g;

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/**
 * Turns a `ws://` or `wss://` URL into the peer id the pool uses for it.
 *
 * Scheme and host are lower-cased, default ports (80 for `ws`, 443 for `wss`)
 * dropped and every trailing slash of the path removed; path, query and
 * fragment keep their case. Credentials (`user:password@`) are kept because
 * they are needed to dial, and so are query values (`?token=…`), so ids must
 * go through {@link redactUrl} before they are logged.
 *
 * @throws InvalidUrlError when the input is not a string, is empty, cannot be
 * parsed, uses another scheme or has no host. The message shows the input with
 * its credentials redacted.
 * @example
 * ```ts
 * normalizeUrl('WSS://Relay.Example.com:443/Nostr/'); // 'wss://relay.example.com/Nostr'
 * ```
 */
export function normalizeUrl(url: string): string {
  if (typeof url !== 'string') throw new InvalidUrlError(describeValue(url), 'expected a string');
  const fail = (reason: string): never => {
    throw new InvalidUrlError(redactUrl(url), reason);
  };
  const text = url.trim();
  if (text === '') fail('the URL is empty');
  if (!SCHEME_WITH_SLASHES.test(text) || !URL.canParse(text)) fail('it is not an absolute URL such as wss://relay.example.com');
  const parsed = new URL(text);
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    fail(`the scheme must be ws: or wss:, not ${parsed.protocol}`);
  }
  if (parsed.hostname === '') fail('it has no host');
  return serialize(parsed);
}

/** Rebuilds a parsed URL in the canonical form described on {@link normalizeUrl}. */
function serialize(url: URL): string {
  // `host` is already lower-cased, bracketed for IPv6 and without a default port.
  const userinfo = url.username !== '' || url.password !== '' ? `${credentials(url)}@` : '';
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${userinfo}${url.host}${path}${url.search}${url.hash}`;
}

function credentials(url: URL): string {
  return url.password === '' ? url.username : `${url.username}:${url.password}`;
}

/**
 * Returns the URL with the user name and password of its userinfo replaced by
 * `***`, and every query value too (`?token=abc&room=1` → `?token=***&room=***`;
 * a query part without `=` becomes `***`; names and empty values stay), so it
 * can be logged or put in an error message: any query value may be a secret.
 *
 * Works on strings that are not valid URLs too (a message with a URL in it),
 * and never throws.
 * @example
 * ```ts
 * redactUrl('wss://alice:secret@relay.example.com/x?token=abc'); // 'wss://***:***@relay.example.com/x?token=***'
 * ```
 */
export function redactUrl(url: string): string {
  const text = safeString(url);
  return text.includes('?') ? maskQueries(redactUserinfo(text)) : redactUserinfo(text);
}

/** Masks every query value in `text` (see {@link redactUrl}). */
function maskQueries(text: string): string {
  return text.replace(QUERY, (_match, query: string) => `?${query.split('&').map(maskQueryPart).join('&')}`);
}

function maskQueryPart(part: string): string {
  if (part === '') return part;
  const eq = part.indexOf('=');
  if (eq === -1) return '***';
  return eq === part.length - 1 ? part : `${part.slice(0, eq)}=***`;
}

function redactUserinfo(text: string): string {
  if (!text.includes('@')) return text;
  if (URL.canParse(text)) {
    const redacted = text.replace(PARSED_USERINFO, (_match, head: string, info: string) => `${head}${mask(info)}@`);
    if (!hasCredentials(redacted)) return redacted;
  }
  return text.replace(LOOSE_USERINFO, (_match, head: string | undefined, info: string) => `${head ?? ''}${mask(info)}@`);
}

function mask(userinfo: string): string {
  return userinfo.includes(':') ? '***:***' : '***';
}

function hasCredentials(text: string): boolean {
  if (!URL.canParse(text)) return true;
  const url = new URL(text);
  const masked = (part: string): boolean => part === '' || part === '***';
  return !(masked(url.username) && masked(url.password));
}

function safeString(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return String(value);
  } catch {
    return describeValue(value);
  }
}

/**
 * Returns a copy of the headers with the values of `Authorization`,
 * `Proxy-Authorization`, `Cookie` and `Set-Cookie` (any letter case) replaced
 * by `[redacted]`, so they can be logged.
 */
export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    copy[name] = SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
  }
  return copy;
}

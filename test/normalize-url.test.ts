import { describe, it, expect } from 'vitest';
import { ErrorCodes, InvalidUrlError } from '../src/errors.ts';
import { normalizeUrl, redactHeaders, redactUrl } from '../src/normalize-url.ts';
import { thrown } from './helpers/thrown.ts';

describe('normalizeUrl', () => {
  it.each([
    // scheme and host case
    ['WSS://Relay.Example.COM', 'wss://relay.example.com'],
    ['Ws://A.com', 'ws://a.com'],
    // default ports dropped, other ports kept
    ['ws://a.com:80', 'ws://a.com'],
    ['wss://a.com:443/', 'wss://a.com'],
    ['ws://a.com:443', 'ws://a.com:443'],
    ['wss://a.com:80', 'wss://a.com:80'],
    ['wss://a.com:8443/relay', 'wss://a.com:8443/relay'],
    ['ws://a.com:0080', 'ws://a.com'],
    // trailing slashes
    ['wss://a.com/', 'wss://a.com'],
    ['wss://a.com/relay/', 'wss://a.com/relay'],
    ['wss://a.com/relay//', 'wss://a.com/relay'],
    ['wss://a.com///', 'wss://a.com'],
    ['wss://a.com/a/b/', 'wss://a.com/a/b'],
    ['wss://a.com/?x=1', 'wss://a.com?x=1'],
    ['wss://a.com/relay/?x=1', 'wss://a.com/relay?x=1'],
    ['wss://a.com/#top', 'wss://a.com#top'],
    // path, query and fragment keep their case
    ['wss://A.com/Relay/V1', 'wss://a.com/Relay/V1'],
    ['wss://a.com/r?Token=AbC', 'wss://a.com/r?Token=AbC'],
    ['wss://a.com/r#Frag', 'wss://a.com/r#Frag'],
    ['WSS://A.COM/P?Q=R#S', 'wss://a.com/P?Q=R#S'],
    // IPv6 literals
    ['ws://[::1]:8080/', 'ws://[::1]:8080'],
    ['ws://[::1]', 'ws://[::1]'],
    ['ws://[::1]:80/', 'ws://[::1]'],
    ['wss://[2001:DB8::1]:443/x', 'wss://[2001:db8::1]/x'],
    ['ws://127.0.0.1:7777/', 'ws://127.0.0.1:7777'],
    // userinfo is kept, because it is needed to dial
    ['wss://alice:secret@H.com/x/', 'wss://alice:secret@h.com/x'],
    ['wss://bob@h.com', 'wss://bob@h.com'],
    ['ws://:token@h.com', 'ws://:token@h.com'],
    // surrounding whitespace is ignored, empty query/fragment markers dropped
    ['  wss://a.com/  ', 'wss://a.com'],
    ['wss://a.com/?', 'wss://a.com']
  ])('normalizes %j to %j', (input, expected) => {
    expect(normalizeUrl(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const url of ['WSS://A.com:443/Relay//?Q=1#F', 'ws://u:p@[::1]:8080/', 'wss://a.com']) {
      const once = normalizeUrl(url);
      expect(normalizeUrl(once)).toBe(once);
    }
  });

  it.each([
    ['http://a.com'],
    ['https://a.com'],
    ['ftp://a.com'],
    ['file:///tmp/x'],
    ['mailto:a@b.com'],
    [''],
    ['   '],
    ['\t\n'],
    ['not a url'],
    ['ws://'],
    ['wss://'],
    ['wss://:443'],
    ['ws//x'],
    ['ws:a.com'],
    ['ws:/a.com'],
    ['//a.com'],
    ['a.com'],
    ['wss://a b.com'],
    ['ws://a.com:99999'],
    ['ws://[::1'],
    ['wss://u:p@']
  ])('rejects %j with InvalidUrlError naming the input', (input) => {
    const error = thrown(() => normalizeUrl(input));
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect((error as InvalidUrlError).code).toBe(ErrorCodes.INVALID_URL);
    expect((error as InvalidUrlError).code).toBe('HONEYBEE_ERR_INVALID_URL');
    expect((error as Error).message).toContain(JSON.stringify(redactUrl(input)));
  });

  it.each([[null], [undefined], [42], [{}], [['ws://a.com']], [Symbol('x')]])('rejects the non-string %s with InvalidUrlError', (input) => {
    const error = thrown(() => normalizeUrl(input as unknown as string));
    expect(error).toBeInstanceOf(InvalidUrlError);
    expect((error as InvalidUrlError).code).toBe('HONEYBEE_ERR_INVALID_URL');
    expect((error as Error).message).toContain('expected a string');
  });

  it.each([['https://alice:hunter2@a.com/x'], ['ws://alice:hunter2@'], ['wss://alice:hunter2@bad host'], ['alice:hunter2@a.com']])(
    'keeps the password of %j out of the error message',
    (input) => {
      const error = thrown(() => normalizeUrl(input)) as InvalidUrlError;
      expect(error).toBeInstanceOf(InvalidUrlError);
      expect(error.message).not.toContain('hunter2');
      expect(error.input).not.toContain('hunter2');
      expect(error.message).toContain('***');
    }
  );
});

describe('redactUrl', () => {
  it.each([
    ['wss://alice:secret@h.com/x', 'wss://***:***@h.com/x'],
    ['wss://bob@h', 'wss://***@h'],
    ['ws://:secret@h.com', 'ws://***:***@h.com'],
    ['wss://a@b:secret@h.com/x', 'wss://***:***@h.com/x'],
    ['WSS://Alice:Secret@H.com/Path', 'WSS://***:***@H.com/Path'],
    ['wss://h.com/path@x', 'wss://h.com/path@x'],
    ['wss://h.com/?mail=a@b', 'wss://h.com/?mail=***'],
    // every query value is masked, names and empty values stay; a part without `=` is masked whole
    ['wss://h.com/x?token=abc', 'wss://h.com/x?token=***'],
    ['wss://u:p@h.com/?auth=k1&room=7&empty=&flag#frag', 'wss://***:***@h.com/?auth=***&room=***&empty=&***#frag'],
    ['wss://h.com/?', 'wss://h.com/?'],
    ['dial to ws://h.com/?apikey=s3cret failed: 401', 'dial to ws://h.com/?apikey=*** failed: 401'],
    ['ws://h.com?token=abc%20def', 'ws://h.com?token=***'],
    ['wss://h.com', 'wss://h.com'],
    ['ws:alice:secret@h.com', 'ws:***:***@h.com'],
    // unparsable: a regex fallback still hides the credentials
    ['ws://alice:secret@', 'ws://***:***@'],
    ['wss://alice:sec/ret@bad host', 'wss://***:***@bad host'],
    // parsed as scheme `alice:`, so only the part before `@` is masked
    ['alice:secret@h.com', 'alice:***@h.com'],
    ['alice secret@h.com', '***@h.com'],
    ['not a url', 'not a url'],
    ['', '']
  ])('redacts %j to %j', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('never throws, whatever it is given', () => {
    const hostile = {
      toString: () => {
        throw new Error('boom');
      }
    };
    for (const value of [null, undefined, 42, {}, Symbol('s'), hostile]) {
      expect(() => redactUrl(value as unknown as string)).not.toThrow();
    }
    expect(redactUrl(null as unknown as string)).toBe('null');
  });
});

describe('redactHeaders', () => {
  it('replaces the values of credential headers in any letter case', () => {
    const headers = {
      Authorization: 'Bearer abc',
      'proxy-authorization': 'Basic xyz',
      COOKIE: 'session=1',
      'Set-Cookie': 'id=2',
      'User-Agent': 'honeybee/0.1.0',
      'Sec-WebSocket-Protocol': 'nostr'
    };
    expect(redactHeaders(headers)).toEqual({
      Authorization: '[redacted]',
      'proxy-authorization': '[redacted]',
      COOKIE: '[redacted]',
      'Set-Cookie': '[redacted]',
      'User-Agent': 'honeybee/0.1.0',
      'Sec-WebSocket-Protocol': 'nostr'
    });
  });

  it('returns a copy and leaves the input untouched', () => {
    const headers = { authorization: 'Bearer abc' };
    const redacted = redactHeaders(headers);
    expect(redacted).not.toBe(headers);
    expect(headers.authorization).toBe('Bearer abc');
  });
});

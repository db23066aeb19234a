import { Ups2MqttError } from '../core/errors.ts';

/** A parsed source URI (see docs/configuration.md, "Sources"). */
export type SourceSpec =
  | { kind: 'nis'; host: string; port: number }
  | { kind: 'sim'; model: string; params: Record<string, string> }
  | { kind: 'apcsmart'; path: string }
  | { kind: 'hid'; vendorId?: number; productId?: number; serial?: string }
  | { kind: 'hid-replay'; path: string }
  | { kind: 'nut'; host: string; port: number; ups: string; username?: string; password?: string };

const SCHEMES = ['nis', 'sim', 'apcsmart', 'hid', 'hid-replay', 'nut'] as const;

function fail(uri: string, why: string): never {
  throw new Ups2MqttError('SOURCE_URI_INVALID', `invalid source ${showUri(uri)}: ${why}`);
}

function parsePort(uri: string, text: string, fallback: number): number {
  if (text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(uri, `port "${text}" is not 1-65535`);
  return port;
}

/** decodeURIComponent that fails with SOURCE_URI_INVALID instead of a URIError. */
function decode(uri: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(uri, `${what} has a malformed %-escape`);
  }
}

/** Parses a source URI; throws SOURCE_URI_INVALID with a reason a person can act on. */
export function parseSourceUri(uri: string): SourceSpec {
  const m = /^([a-z-]+):\/\/(.*)$/.exec(uri.trim());
  if (!m) fail(uri, `expected SCHEME://..., one of ${SCHEMES.join(', ')}`);
  const [, scheme = '', rest = ''] = m;
  switch (scheme) {
    case 'nis': {
      const hp = /^(\[[^\]]+\]|[^:/?#]+)(?::(\d*))?\/?$/.exec(rest);
      if (!hp) fail(uri, 'expected nis://host[:port]');
      const host = (hp[1] ?? '').replace(/^\[|\]$/g, '');
      return { kind: 'nis', host, port: parsePort(uri, hp[2] ?? '', 3551) };
    }
    case 'sim': {
      const [path = '', query = ''] = rest.split('?', 2);
      const params: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(query)) params[k] = v;
      return { kind: 'sim', model: path.replace(/\/+$/, '') || 'default', params };
    }
    case 'apcsmart': {
      if (!rest.startsWith('/'))
        fail(uri, 'expected apcsmart:///dev/ttyXXX (an absolute device path)');
      return { kind: 'apcsmart', path: rest };
    }
    case 'hid': {
      if (rest === 'auto' || rest === 'auto/') return { kind: 'hid' };
      const id = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?:\/(.+))?$/.exec(rest);
      if (!id) fail(uri, 'expected hid://auto, hid://VID:PID or hid://VID:PID/SERIAL (hex ids)');
      const spec: SourceSpec = {
        kind: 'hid',
        vendorId: Number.parseInt(id[1] ?? '', 16),
        productId: Number.parseInt(id[2] ?? '', 16),
      };
      if (id[3] !== undefined) spec.serial = decode(uri, id[3], 'the serial number');
      return spec;
    }
    case 'hid-replay': {
      if (rest === '')
        fail(uri, 'expected hid-replay://relative/path.json or hid-replay:///abs/path.json');
      return { kind: 'hid-replay', path: rest };
    }
    case 'nut': {
      let url: URL;
      try {
        url = new URL(`http://${rest}`);
      } catch {
        fail(uri, 'expected nut://[user:pass@]host[:port]/upsname');
      }
      const ups = decode(uri, url.pathname.replace(/^\/+|\/+$/g, ''), 'the UPS name');
      if (ups === '') fail(uri, 'the UPS name is missing: nut://host/upsname');
      const spec: SourceSpec = {
        kind: 'nut',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: parsePort(uri, url.port, 3493),
        ups,
      };
      if (url.username) spec.username = decode(uri, url.username, 'the user name');
      if (url.password) spec.password = decode(uri, url.password, 'the password');
      return spec;
    }
    default:
      return fail(uri, `unknown scheme "${scheme}", expected one of ${SCHEMES.join(', ')}`);
  }
}

/**
 * The URI with any password replaced by `***`, safe for logs. Every `scheme://user:pass@`
 * in the text is masked, wherever it stands (a list pasted where one URI was expected still
 * masks each one). The scheme is matched in any case (`MQTT://` is a valid URL); the user
 * name runs to the first `:` and the password to the last `@` of the authority, as URL
 * parsers split them (WHATWG URL, "authority state"): `mqtt://u:p@ss@host` has the
 * password `p@ss`, `mqtt://a@b:pw@host` the user `a@b`.
 */
export function maskUri(uri: string): string {
  return uri.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#\s]*):[^/?#\s]*@/gi, '$1:***@');
}

/**
 * A URI for an error message: quoted and masked, or not shown at all when it may still hold
 * a password that masking could not find: an `@` left after masking (`user:pass@host`,
 * `mqtt://u:pa/ss@host`), or a `:` in the authority that does not start a port
 * (`mqtt://user:pass#host`, a typo for `@`).
 */
export function showUri(uri: string): string {
  const masked = maskUri(uri);
  const rest = masked.replaceAll(':***@', '@');
  const authority = /^\s*[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(rest)?.[1];
  const host = authority?.slice(authority.lastIndexOf('@') + 1).replace(/\[[^\]]*\]/g, '');
  const leftover = masked.replaceAll(':***@', '').includes('@');
  const oddColon = host !== undefined && host.includes(':') && !/^[^:]*:\d*$/.test(host);
  if (leftover || oddColon) return '(the value is not shown: it may hold a password)';
  return JSON.stringify(masked);
}

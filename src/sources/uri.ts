import { Ups2MqttError } from '../core/errors.ts';

/** A parsed source URI (see docs/configuration.md, "Sources"). */
export type SourceSpec =
  | { kind: 'nis'; host: string; port: number }
  | { kind: 'sim'; model: string; params: Record<string, string> }
  | { kind: 'apcsmart'; path: string }
  | { kind: 'hid'; vendorId?: number; productId?: number; serial?: string }
  | { kind: 'hid-replay'; path: string }
  | {
      kind: 'nut';
      host: string;
      port: number;
      /** The upsd name of the UPS, or {@link NUT_ALL_UPSES} for every UPS upsd lists. */
      ups: string;
      username?: string;
      password?: string;
      /** STARTTLS: `off` (default), `prefer` (use it when upsd offers it), `require`. */
      tls: NutTlsMode;
    };

/** How a `nut://` source uses STARTTLS (`?tls=`). */
export type NutTlsMode = 'off' | 'prefer' | 'require';

/**
 * The UPS name of `nut://host` and `nut://host/*`: every UPS upsd's `LIST UPS` returns.
 * NUT's UPS names cannot contain `*`, so it cannot clash with a real name.
 */
export const NUT_ALL_UPSES = '*';

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
      const usage =
        'expected nut://host[:port][/upsname|/*][?tls=off|prefer|require], with an optional login (user, or user and password, then @) before the host';
      let url: URL;
      try {
        url = new URL(`http://${rest}`);
      } catch {
        fail(uri, usage);
      }
      if (url.hostname === '') fail(uri, usage);
      const path = url.pathname.replace(/^\/+|\/+$/g, '');
      let ups: string;
      try {
        ups = path === '' ? NUT_ALL_UPSES : decodeURIComponent(path);
      } catch {
        fail(uri, 'the UPS name is not valid percent-encoding');
      }
      // upsd's names are single words (ups.conf section names): no spaces, slashes or quotes.
      if (ups !== NUT_ALL_UPSES && !/^[^\s/"\\*]+$/.test(ups)) {
        fail(uri, `"${ups}" is not a NUT UPS name (one word without spaces, "/" or quotes)`);
      }
      const tls = url.searchParams.get('tls') ?? 'off';
      if (tls !== 'off' && tls !== 'prefer' && tls !== 'require') {
        fail(uri, `tls must be off, prefer or require, not "${tls}"`);
      }
      for (const key of url.searchParams.keys()) {
        if (key !== 'tls') fail(uri, `unknown option "${key}" (only tls=)`);
      }
      const spec: SourceSpec = {
        kind: 'nut',
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: parsePort(uri, url.port, 3493),
        ups,
        tls,
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
  // Blanks are allowed on both sides: URL parsers drop tabs and newlines and encode spaces,
  // so `nut://\tuser:pw@host` is valid. Masking too much of a message is the safe mistake.
  // Then, when the text starts with a URI, up to its last `@`: a password typed with an
  // unencoded `/` does not parse as a URL, but it must not show in part either (over-masking
  // a path that holds `@` is the safe mistake).
  // What follows the `:` must not be a port (`mqtt://h:1883/a@b` keeps its port).
  const masked = uri.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#]*):[^/?#]*@/gi, '$1:***@');
  return masked.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):(?!\d*(?:[/?#]|$)).*@/is, '$1:***@');
}

/** A readable description of a NUT source (no password), e.g. `nut://monuser@10.0.0.2:3493/ups`. */
export function describeNutSpec(spec: Extract<SourceSpec, { kind: 'nut' }>): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const user = spec.username === undefined ? '' : `${encodeURIComponent(spec.username)}@`;
  const tls = spec.tls === 'off' ? '' : `?tls=${spec.tls}`;
  const ups = spec.ups === NUT_ALL_UPSES ? NUT_ALL_UPSES : encodeURIComponent(spec.ups);
  return `nut://${user}${host}:${spec.port}/${ups}${tls}`;
}

const NOT_SHOWN = '(the value is not shown: it may hold a password)';

/**
 * A URI for an error message: quoted with its user information masked (`nut://***@host/ups`)
 * when it has the plain shape `scheme://[user[:***]@]host[:port][/path…]`, else not shown. What is not that shape
 * (a JSON list, `user:pass@host`, `mqtt://u:pa/ss@host`, `mqtt://user:pass#host`, stray
 * bytes) may hold a password that masking cannot find, so only a whitelist is echoed.
 */
export function showUri(uri: string): string {
  const masked = maskUri(uri);
  const m =
    /^\s*[a-z][a-z0-9+.-]*:\/\/(?:[^:/?#@\s]*(?::\*\*\*)?@)?([^/?#@\s]*)(?:[/?#][^@\s]*)?\s*$/i.exec(
      masked,
    );
  if (!m) return NOT_SHOWN;
  // host[:port]: a `:` outside IPv6 brackets may only start a port.
  const host = (m[1] ?? '').replace(/\[[^\]]*\]/g, '');
  if (host.includes(':') && !/^[^:]*:\d*$/.test(host)) return NOT_SHOWN;
  // The user name goes too: a refused value may be a typo that made a password of it.
  return JSON.stringify(masked.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]*@/i, '$1***@'));
}

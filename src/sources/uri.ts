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
  throw new Ups2MqttError('SOURCE_URI_INVALID', `invalid source "${maskUri(uri)}": ${why}`);
}

function parsePort(uri: string, text: string, fallback: number): number {
  if (text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    fail(uri, `port "${text}" is not 1-65535`);
  return port;
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
      if (id[3] !== undefined) spec.serial = decodeURIComponent(id[3]);
      return spec;
    }
    case 'hid-replay': {
      if (rest === '')
        fail(uri, 'expected hid-replay://relative/path.json or hid-replay:///abs/path.json');
      return { kind: 'hid-replay', path: rest };
    }
    case 'nut': {
      const usage =
        'expected nut://[user[:password]@]host[:port][/upsname|/*][?tls=off|prefer|require]';
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
      if (url.username) spec.username = decodeURIComponent(url.username);
      if (url.password) spec.password = decodeURIComponent(url.password);
      return spec;
    }
    default:
      return fail(uri, `unknown scheme "${scheme}", expected one of ${SCHEMES.join(', ')}`);
  }
}

/**
 * The URI with any password replaced by `***`, safe for logs and error messages. The
 * password runs to the last `@`: a password may itself hold `@` or `/` (unencoded), and
 * neither a host nor a NUT UPS name can.
 */
export function maskUri(uri: string): string {
  return uri.replace(/^(\s*[a-z-]+:\/\/[^:/@]*):.*@/s, '$1:***@');
}

/** A readable description of a NUT source (no password), e.g. `nut://monuser@10.0.0.2:3493/ups`. */
export function describeNutSpec(spec: Extract<SourceSpec, { kind: 'nut' }>): string {
  const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
  const user = spec.username === undefined ? '' : `${encodeURIComponent(spec.username)}@`;
  const tls = spec.tls === 'off' ? '' : `?tls=${spec.tls}`;
  const ups = spec.ups === NUT_ALL_UPSES ? NUT_ALL_UPSES : encodeURIComponent(spec.ups);
  return `nut://${user}${host}:${spec.port}/${ups}${tls}`;
}

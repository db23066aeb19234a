/**
 * The status page's address as another machine would use it, for Home Assistant's device
 * `configuration_url` ("Visit" on the device page). Pure.
 *
 * Only an address the endpoint is bound to specifically counts: loopback is reachable from
 * this machine alone, and a wildcard (`0.0.0.0`, `::`) says nothing about which of the
 * machine's addresses Home Assistant can reach (in a container it is the container's own).
 * Guessing would put a dead link on the device page, so there is none; binding `http.host`
 * to the LAN address (or a name) gives the link (docs/homeassistant.md#device-block).
 */
export function statusPageUrl(http: {
  enabled: boolean;
  host: string;
  port: number;
}): string | undefined {
  if (!http.enabled || http.port === 0) return undefined;
  const host = http.host.trim().toLowerCase();
  if (host === '' || isWildcard(host) || isLoopback(host)) return undefined;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${shown}:${http.port}/`;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]' || host === '*';
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return (
    bare === 'localhost' ||
    bare.endsWith('.localhost') ||
    /^127\./.test(bare) ||
    bare === '::1' ||
    bare === '::ffff:127.0.0.1'
  );
}

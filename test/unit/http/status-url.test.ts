import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statusPageUrl } from '../../../src/http/status-url.ts';

describe("statusPageUrl (the device block's configuration_url)", () => {
  const cases: [string, { enabled: boolean; host: string; port: number }, string | undefined][] = [
    ['a LAN address', { enabled: true, host: '192.0.2.10', port: 1551 }, 'http://192.0.2.10:1551/'],
    ['a host name', { enabled: true, host: 'nas.lan', port: 8080 }, 'http://nas.lan:8080/'],
    ['an IPv6 address', { enabled: true, host: 'fd00::5', port: 1551 }, 'http://[fd00::5]:1551/'],
    ['loopback (the default)', { enabled: true, host: '127.0.0.1', port: 1551 }, undefined],
    ['localhost', { enabled: true, host: 'localhost', port: 1551 }, undefined],
    ['IPv6 loopback', { enabled: true, host: '::1', port: 1551 }, undefined],
    ['all IPv4 interfaces', { enabled: true, host: '0.0.0.0', port: 1551 }, undefined],
    ['all IPv6 interfaces', { enabled: true, host: '::', port: 1551 }, undefined],
    ['a free port picked at start', { enabled: true, host: '192.0.2.10', port: 0 }, undefined],
    ['http disabled', { enabled: false, host: '192.0.2.10', port: 1551 }, undefined],
  ];
  for (const [name, http, expected] of cases) {
    it(`${name} → ${expected ?? 'no link'}`, () => {
      assert.equal(statusPageUrl(http), expected);
    });
  }
});

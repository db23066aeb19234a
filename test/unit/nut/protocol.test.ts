import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUps2MqttError } from '../../../src/core/errors.ts';
import {
  NUT_ERROR_CODES,
  NutLineDecoder,
  NutListCollector,
  nutRequestLine,
  nutServerError,
} from '../../../src/sources/nut/protocol.ts';
import { maskUri, parseSourceUri } from '../../../src/sources/uri.ts';

describe('NUT lines', () => {
  it('splits chunks into lines at any byte, CR LF or LF', () => {
    const d = new NutLineDecoder(64);
    assert.deepEqual(d.push('BEGIN LIST UPS\nUPS a "x'), ['BEGIN LIST UPS']);
    assert.equal(d.pendingBytes, 8);
    assert.deepEqual(d.push(' y"\r\nEND LIST UPS\n'), ['UPS a "x y"', 'END LIST UPS']);
    assert.equal(d.pendingBytes, 0);
  });

  it('refuses a line longer than the bound, even before its newline', () => {
    const d = new NutLineDecoder(16);
    assert.throws(
      () => d.push('x'.repeat(17)),
      (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'),
    );
    assert.throws(
      () => new NutLineDecoder(16).push(`${'y'.repeat(20)}\n`),
      (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'),
    );
  });

  it('keeps a UTF-8 character split across two reads whole (fuzz: nut-source/lines-split)', () => {
    const d = new NutLineDecoder(64);
    const bytes = Buffer.from('VAR ups device.model "Caf\u00e9 \u{1f600}"\n', 'utf8');
    const at = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(d.push(bytes.subarray(0, at)), []);
    assert.equal(d.pendingBytes, at);
    assert.deepEqual(d.push(bytes.subarray(at, -2)), []);
    assert.deepEqual(d.push(bytes.subarray(-2)), ['VAR ups device.model "Caf\u00e9 \u{1f600}"']);
  });

  it('measures the bound in bytes, not characters', () => {
    // 6 characters, 12 bytes: over a 10-byte bound.
    assert.throws(
      () => new NutLineDecoder(10).push('\u00e9'.repeat(6)),
      (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'),
    );
    assert.deepEqual(new NutLineDecoder(10).push(`${'\u00e9'.repeat(5)}\n`), ['\u00e9'.repeat(5)]);
  });

  it('quotes request words that need it', () => {
    assert.equal(nutRequestLine(['LIST', 'VAR', 'ups1']), 'LIST VAR ups1\n');
    assert.equal(nutRequestLine(['PASSWORD', 'a b"c\\']), 'PASSWORD "a b\\"c\\\\"\n');
  });
  it('refuses a word with a line break or NUL (fuzz: nut-source/request-line)', () => {
    for (const word of ['pw\nINSTCMD ups load.off', 'pw\r', 'a\u0000b', '\n']) {
      assert.throws(
        () => nutRequestLine(['PASSWORD', word]),
        (e) => isUps2MqttError(e, 'PROTOCOL_ERROR') && !String(e.message).includes('pw'),
      );
    }
    assert.equal(nutRequestLine(['PASSWORD', 'tab\there']), 'PASSWORD "tab\there"\n');
  });
});

describe('NUT lists', () => {
  it('collects items between BEGIN and END LIST, unquoting values', () => {
    const c = new NutListCollector('LIST VAR ups');
    assert.equal(c.push('BEGIN LIST VAR ups'), undefined);
    assert.equal(c.push('VAR ups ups.status "OL CHRG"'), undefined);
    assert.equal(c.push('VAR ups ups.id "say \\"hi\\""'), undefined);
    assert.deepEqual(c.push('END LIST VAR ups'), [
      ['VAR', 'ups', 'ups.status', 'OL CHRG'],
      ['VAR', 'ups', 'ups.id', 'say "hi"'],
    ]);
  });

  it('an ERR instead of the list is the coded error', () => {
    const c = new NutListCollector('LIST VAR nope');
    assert.throws(
      () => c.push('ERR UNKNOWN-UPS'),
      (e) => isUps2MqttError(e, 'UPS_UNKNOWN') && e.context.nutError === 'UNKNOWN-UPS',
    );
  });

  it('a foreign list, a wrong END or too many items are refused', () => {
    assert.throws(
      () => new NutListCollector('LIST VAR a').push('BEGIN LIST VAR b'),
      (e) => isUps2MqttError(e, 'PROTOCOL_ERROR'),
    );
    const c = new NutListCollector('LIST CMD a');
    c.push('BEGIN LIST CMD a');
    assert.throws(
      () => c.push('END LIST CMD b'),
      (e) => isUps2MqttError(e, 'PROTOCOL_ERROR'),
    );
    const small = new NutListCollector('LIST UPS', 2);
    small.push('BEGIN LIST UPS');
    small.push('UPS a ""');
    small.push('UPS b ""');
    assert.throws(
      () => small.push('UPS c ""'),
      (e) => isUps2MqttError(e, 'FRAME_TOO_LARGE'),
    );
    assert.throws(
      () => new NutListCollector('LIST UPS').push('BEGIN "LIST'),
      (e) => isUps2MqttError(e, 'PROTOCOL_ERROR'),
    );
  });
});

describe('NUT ERR codes', () => {
  it('every code of upsd 2.8 maps to a project code, with the NUT code kept', () => {
    const expected: Record<string, string> = {
      'UNKNOWN-UPS': 'UPS_UNKNOWN',
      'DATA-STALE': 'DATA_STALE',
      'DRIVER-NOT-CONNECTED': 'DATA_STALE',
      'ACCESS-DENIED': 'ACCESS_DENIED',
      'INVALID-PASSWORD': 'ACCESS_DENIED',
      'INVALID-USERNAME': 'ACCESS_DENIED',
      'USERNAME-REQUIRED': 'ACCESS_DENIED',
      'PASSWORD-REQUIRED': 'ACCESS_DENIED',
      'VAR-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
      'CMD-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
      'FEATURE-NOT-SUPPORTED': 'SOURCE_UNSUPPORTED',
      'FEATURE-NOT-CONFIGURED': 'SOURCE_UNSUPPORTED',
      'UNKNOWN-COMMAND': 'SOURCE_UNSUPPORTED',
      'INSTCMD-FAILED': 'COMMAND_FAILED',
      'SET-FAILED': 'COMMAND_FAILED',
      FAILED: 'COMMAND_FAILED',
      UNKNOWN: 'COMMAND_FAILED',
      'INVALID-ARGUMENT': 'SERVER_ERROR',
      'INVALID-VALUE': 'SERVER_ERROR',
      READONLY: 'SERVER_ERROR',
      'TOO-LONG': 'SERVER_ERROR',
      'ALREADY-SSL-MODE': 'SERVER_ERROR',
      'ALREADY-LOGGED-IN': 'SERVER_ERROR',
      'ALREADY-SET-PASSWORD': 'SERVER_ERROR',
      'ALREADY-SET-USERNAME': 'SERVER_ERROR',
    };
    assert.deepEqual({ ...NUT_ERROR_CODES }, expected);
    for (const [nut, code] of Object.entries(expected)) {
      const err = nutServerError(['ERR', nut], 'GET VAR a b');
      assert.equal(err.code, code);
      assert.equal(err.context.nutError, nut);
      assert.match(err.message, new RegExp(`\\(ERR ${nut}\\)$`));
    }
    assert.equal(nutServerError(['ERR', 'NEW-THING'], 'X').code, 'SERVER_ERROR');
  });

  it('a refused PASSWORD request never carries the password', () => {
    const err = nutServerError(['ERR', 'INVALID-PASSWORD'], 'PASSWORD hunter2');
    assert.equal(err.context.request, 'PASSWORD ***');
    assert.doesNotMatch(JSON.stringify({ m: err.message, c: err.context }), /hunter2/);
  });
});

describe('nut:// URIs', () => {
  it('parses user, password, host, port, UPS and tls', () => {
    assert.deepEqual(parseSourceUri('nut://mon:p%40ss@10.0.0.2:3494/rack?tls=require'), {
      kind: 'nut',
      host: '10.0.0.2',
      port: 3494,
      ups: 'rack',
      username: 'mon',
      password: 'p@ss',
      tls: 'require',
    });
    assert.deepEqual(parseSourceUri('nut://nas'), {
      kind: 'nut',
      host: 'nas',
      port: 3493,
      ups: '*',
      tls: 'off',
    });
    assert.deepEqual(parseSourceUri('nut://nas/*'), {
      kind: 'nut',
      host: 'nas',
      port: 3493,
      ups: '*',
      tls: 'off',
    });
    assert.deepEqual(parseSourceUri('nut://[::1]:3493/ups?tls=prefer'), {
      kind: 'nut',
      host: '::1',
      port: 3493,
      ups: 'ups',
      tls: 'prefer',
    });
  });

  it('refuses bad ones without echoing the password', () => {
    for (const uri of [
      'nut://u:topsecret@h/ups?tls=maybe',
      'nut://u:topsecret@h/a b',
      'nut://u:topsecret@h/ups?x=1',
      'nut://u:topsecret@h:99999/ups',
    ]) {
      assert.throws(
        () => parseSourceUri(uri),
        (e) =>
          isUps2MqttError(e, 'SOURCE_URI_INVALID') &&
          !e.message.includes('topsecret') &&
          (e.message.includes('nut://***@') || e.message.includes('not shown')),
        uri,
      );
    }
  });

  it('maskUri hides the whole password, even one with @ or /', () => {
    assert.equal(maskUri('nut://u:secret@h/ups'), 'nut://u:***@h/ups');
    assert.equal(maskUri('nut://u:se@c/ret@h:1/ups'), 'nut://u:***@h:1/ups');
    assert.equal(maskUri('nut://u@h/ups'), 'nut://u@h/ups');
    assert.equal(maskUri('nis://h:3551'), 'nis://h:3551');
  });
});

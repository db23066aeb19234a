import * as assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../../src/cli/logger.ts';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('createLogger', () => {
  it('writes JSON lines and never a secret', () => {
    const s = sink();
    const log = createLogger({
      level: 'info',
      format: 'json',
      isTty: false,
      destination: s.stream,
    });
    log.info(
      {
        mqtt: { url: 'mqtt://b', password: 'pw-1' },
        password: 'pw-2',
        config: { mqtt: { password: 'pw-3' } },
      },
      'starting',
    );
    log.child({ module: 'x' }).warn({ options: { password: 'pw-4' } }, 'hello');
    const text = s.text();
    for (const secret of ['pw-1', 'pw-2', 'pw-3', 'pw-4'])
      assert.ok(!text.includes(secret), secret);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].msg, 'starting');
    assert.equal(lines[0].mqtt.password, '***');
    assert.equal(lines[1].module, 'x');
  });

  it('pretty-prints when asked, or on a terminal in auto mode', () => {
    const s = sink();
    createLogger({ level: 'info', format: 'pretty', isTty: false, destination: s.stream }).info(
      'hello there',
    );
    assert.match(s.text(), /INFO.*hello there/);
    assert.throws(() => JSON.parse(s.text()));
    const auto = sink();
    createLogger({ level: 'info', format: 'auto', isTty: false, destination: auto.stream }).info(
      'x',
    );
    assert.equal(JSON.parse(auto.text()).msg, 'x', 'auto without a terminal is JSON');
  });
});

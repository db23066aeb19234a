import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clockTicksPerSecond } from '../lib/procfs.ts';
import { parseStatEntry, sumTree, treeCpuNs, treeOf } from '../lib/proctree.ts';
import {
  BRIDGE_NAMES,
  BRIDGES,
  type BridgeName,
  parseUps2mqttEnv,
  statusPower,
} from '../lib/sbs-bridges.ts';
import { markdownTables, summarize } from '../lib/sbs-report.ts';
import type { WindowResult } from '../lib/sbs-window.ts';

// A real /proc/<pid>/stat line layout (52 fields), with a command name holding ") (".
function statLine(
  pid: number,
  ppid: number,
  comm: string,
  cpu: [number, number, number, number],
  rss: number,
): string {
  const after = [
    'S',
    ppid,
    pid,
    pid,
    0,
    -1,
    4194560,
    100,
    0,
    0,
    0,
    ...cpu,
    20,
    0,
    1,
    0,
    5000,
    1234567,
    rss,
  ];
  return `${pid} (${comm}) ${[...after, ...Array(28).fill(0)].join(' ')}\n`;
}

describe('process tree from /proc', () => {
  it('reads ppid, utime+stime+cutime+cstime and RSS pages, counting fields after the last )', () => {
    const e = parseStatEntry(42, statLine(42, 7, 'odd) (name', [10, 5, 300, 20], 2560));
    assert.deepEqual(e, { pid: 42, ppid: 7, cpuTicks: 335, reapedTicks: 320, rssPages: 2560 });
    assert.equal(parseStatEntry(1, 'garbage'), undefined);
  });

  it('sums a process and all its descendants, not its siblings or parent', () => {
    const entries = [
      statLine(1, 0, 'init', [0, 0, 0, 0], 1),
      statLine(10, 1, 'node', [100, 50, 7, 3], 1000),
      statLine(11, 10, 'sh', [1, 1, 2, 2], 100),
      statLine(12, 11, 'apcaccess', [1, 0, 0, 0], 50),
      statLine(20, 1, 'other', [999, 999, 0, 0], 9999),
    ].map((line) => parseStatEntry(Number(line.split(' ')[0]), line));
    const tree = treeOf(
      entries.filter((e) => e !== undefined),
      10,
    );
    assert.deepEqual(
      tree.map((e) => e.pid),
      [10, 11, 12],
    );
    assert.deepEqual(sumTree(tree, 4), { cpuTicks: 167, rssKb: 4600, processes: 3 });
    assert.deepEqual(treeOf([], 10), []);
  });
});

describe('tree CPU in nanoseconds', () => {
  it('grows by about the CPU this process burns, far below a clock tick', () => {
    const tps = clockTicksPerSecond();
    const before = treeCpuNs(process.pid, tps);
    const until = performance.now() + 3;
    while (performance.now() < until) {
      // busy for 3 ms
    }
    const used = treeCpuNs(process.pid, tps) - before;
    assert.ok(used >= 2e6 && used < 1e9, `${used} ns`);
  });
});

describe('what each bridge says about mains', () => {
  const b = (name: BridgeName) => BRIDGES[name];
  const p = (text: string) => Buffer.from(text);

  it('ups2mqtt: on_battery in ups2mqtt/<id>/state', () => {
    assert.equal(b('ups2mqtt').power('ups2mqtt/su420/state', p('{"on_battery":true}')), 'battery');
    assert.equal(b('ups2mqtt').power('ups2mqtt/su420/state', p('{"on_battery":false}')), 'line');
    assert.equal(b('ups2mqtt').power('ups2mqtt/su420/event', p('{"on_battery":true}')), undefined);
    assert.equal(b('ups2mqtt').power('ups2mqtt/su420/state', p('{"status":"unknown"}')), undefined);
  });

  it('apcupsd2mqtt: {"val": STATUS} in ups/status/<name>/status', () => {
    const a = b('apcupsd2mqtt-1s');
    assert.equal(a.power('ups/status/smart-sim/status', p('{"val":"ONBATT"}')), 'battery');
    assert.equal(a.power('ups/status/smart-sim/status', p('{"val":"ONLINE"}')), 'line');
    assert.equal(a.power('ups/status/smart-sim/linev', p('{"val":0}')), undefined);
    assert.ok(a.ownsTopic('ups/status/x/linev') && !a.ownsTopic('ups2mqtt/x/state'));
  });

  it('the Python stand-in: STATUS in pyref/<name>/state; apcupsd words with flags after them', () => {
    const py = b('python-ref');
    assert.equal(py.power('pyref/smart-sim/state', p('{"STATUS":"ONBATT"}')), 'battery');
    assert.equal(statusPower('ONLINE LOWBATT'), 'line');
    assert.equal(statusPower('ONBATT LOWBATT'), 'battery');
    assert.equal(statusPower('COMMLOST'), undefined);
    assert.equal(statusPower(7), undefined);
    assert.equal(b('node-floor').mqtt, false);
  });

  it('the model of the published Python bridges: lower-case status in pypub/<name>/state', () => {
    const py = b('python-published');
    assert.equal(py.power('pypub/smart-sim/state', p('{"status":"ONBATT"}')), 'battery');
    assert.equal(py.power('pypub/smart-sim/state', p('{"status":"ONLINE"}')), 'line');
    assert.equal(py.power('pypub/smart-sim/state', p('{"STATUS":"ONBATT"}')), undefined);
    assert.equal(py.power('pyref/smart-sim/state', p('{"status":"ONBATT"}')), undefined);
    assert.ok(py.ownsTopic('pypub/x/state') && !py.ownsTopic('pyref/x/state'));
  });
});

describe('--ups2mqtt-env', () => {
  it('takes UPS2MQTT_ settings, values may hold "="; empty means none', () => {
    assert.deepEqual(parseUps2mqttEnv(''), {});
    assert.deepEqual(
      parseUps2mqttEnv('UPS2MQTT_NIS_REUSE_CONNECTION=false, UPS2MQTT_NIS_EVENTS_INTERVAL=3600'),
      { UPS2MQTT_NIS_REUSE_CONNECTION: 'false', UPS2MQTT_NIS_EVENTS_INTERVAL: '3600' },
    );
    assert.deepEqual(parseUps2mqttEnv('UPS2MQTT_X=a=b'), { UPS2MQTT_X: 'a=b' });
  });

  it('refuses anything else: other variables, a missing name or "="', () => {
    for (const bad of ['NODE_OPTIONS=--inspect', 'PATH=/tmp', '=1', 'UPS2MQTT_X', 'ups2mqtt_x=1']) {
      assert.throws(() => parseUps2mqttEnv(bad), /--ups2mqtt-env/, bad);
    }
  });
});

describe('side-by-side summary', () => {
  const w = (
    rep: number,
    bridge: BridgeName,
    cpu: number,
    extra: Partial<WindowResult> = {},
  ): WindowResult => ({
    rep,
    bridge,
    startedAt: '',
    cpuSPerHour: cpu,
    ...extra,
  });
  const labels = Object.fromEntries(BRIDGE_NAMES.map((n) => [n, n])) as Record<BridgeName, string>;

  it('takes the cheapest peer by median CPU and gives ratios overall and within each rep', () => {
    const windows = [
      w(1, 'ups2mqtt', 10),
      w(1, 'python-ref', 5),
      w(1, 'apcupsd2mqtt-1s', 20),
      w(2, 'ups2mqtt', 12),
      w(2, 'python-ref', 8),
      w(2, 'apcupsd2mqtt-1s', 6),
      w(2, 'node-floor', 1),
      w(1, 'node-floor', 0, { error: 'crashed' }),
    ];
    const { bridges, cheapestPeer } = summarize(windows, labels, [
      'ups2mqtt',
      'python-ref',
      'node-floor',
    ]);
    assert.equal(cheapestPeer, 'python-ref'); // median 6.5 vs apcupsd2mqtt-1s 13; the floor is no peer
    const u = bridges[0];
    assert.deepEqual(u?.cpuSPerHour, { median: 11, each: [10, 12] });
    assert.equal(u?.cpuRatioToCheapestPeer, 1.69);
    assert.deepEqual(u?.cpuRatioPerRep, [2, 2]); // rep 2: the cheapest peer there is apcupsd2mqtt-1s
    assert.equal(bridges[2]?.failed, 1);
    assert.deepEqual(bridges[2]?.cpuRatioPerRep, [null, 0.17]);
  });

  it('the machine: bridge (less set-up overhead) + apcupsd + mosquitto, in ns figures only', () => {
    const ns = (bridge: number, apcupsd: number, mosquitto: number): Partial<WindowResult> => ({
      cpuSPerHourNs: bridge,
      apcupsdCpuSPerHourNs: apcupsd,
      mosquittoCpuSPerHourNs: mosquitto,
    });
    const windows = [
      w(1, 'ups2mqtt', 0, ns(5, 3, 2)),
      w(1, 'python-ref', 0, ns(3, 4, 4)),
      w(1, 'apcupsd2mqtt-1s', 0, ns(10, 1, 1)),
      w(2, 'ups2mqtt', 0, ns(6, 3, 2)),
      w(2, 'python-ref', 0, ns(3, 4, 5)),
      w(2, 'apcupsd2mqtt-1s', 0, { cpuSPerHourNs: 9 }), // apcupsd and mosquitto not read in ns
    ];
    const { bridges } = summarize(windows, labels, ['ups2mqtt', 'python-ref', 'apcupsd2mqtt-1s'], {
      'apcupsd2mqtt-1s': 4,
    });
    const [u, py, a] = bridges;
    assert.deepEqual(u?.machine, {
      apcupsd: 3,
      mosquitto: 2,
      total: 10.5,
      ratioToCheapestPeer: 1.31,
    });
    assert.deepEqual(py?.machine, {
      apcupsd: 4,
      mosquitto: 4.5,
      total: 11.5,
      ratioToCheapestPeer: 1.44,
    });
    // apcupsd2mqtt: 10 − 4 + 1 + 1 = 8 in its one complete window, the cheapest peer here
    assert.equal(a?.machine.total, 8);
    assert.equal(a?.machine.ratioToCheapestPeer, 1);
    assert.match(
      markdownTables(bridges, 'python-ref'),
      /\| ups2mqtt \| 5\.5 \| 3 \| 2 \| 10\.5 \| 1\.31 \|/,
    );
  });

  it('latency per event: detection, apcupsd alone, and the difference; a miss counts as missed', () => {
    const events = [
      { to: 'battery' as const, apcupsdMs: 10, bridgeMs: 510 },
      { to: 'line' as const, apcupsdMs: 20, bridgeMs: 220 },
      { to: 'battery' as const, apcupsdMs: 30, bridgeMs: null },
    ];
    const { bridges } = summarize([w(1, 'ups2mqtt', 1, { events })], labels, ['ups2mqtt']);
    assert.deepEqual(bridges[0]?.detection, { events: 3, missed: 1, medianMs: 365, p99Ms: 510 });
    assert.deepEqual(bridges[0]?.apcupsd, { events: 3, missed: 0, medianMs: 20, p99Ms: 30 });
    assert.deepEqual(bridges[0]?.added, { events: 3, missed: 1, medianMs: 350, p99Ms: 500 });
  });
});

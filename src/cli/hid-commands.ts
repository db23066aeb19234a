/**
 * `ups2mqtt probe` (UPS-like HID devices and serial ports, with what was recognised) and
 * `ups2mqtt hid dump` (one capture file of a HID UPS, docs/hid.md). The run* functions take
 * their I/O as arguments so tests drive them with fakes; the *Cli functions wire the real
 * system, like demo.ts does for `demo`.
 */

import { systemClock } from '../core/clock.ts';
import { isUps2MqttError } from '../core/errors.ts';
import { explainUnbound, holdProcess, replayPath } from '../sources/hid/create.ts';
import { dumpDevice } from '../sources/hid/dump.ts';
import { type RecognisedDevice, recogniseDevice } from '../sources/hid/recognise.ts';
import { ReplayFileEnumerator } from '../sources/hid/replay.ts';
import { isUpsCandidate, matchDevices, selectorText } from '../sources/hid/select.ts';
import { createSystemEnumerator } from '../sources/hid/system.ts';
import type { HidEnumerator } from '../sources/hid/transport.ts';
import { parseSourceUri } from '../sources/uri.ts';
import type { ParsedArgs } from './args.ts';
import { packageInfo } from './version.ts';

/** Output streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** A serial port as `serialport`'s SerialPort.list() reports it. */
export interface SerialPortEntry {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

/** What probe reads from. */
export interface ProbeDeps {
  enumerator: HidEnumerator;
  listSerialPorts: () => Promise<SerialPortEntry[]>;
  explainMissing?: () => Promise<string[]>;
}

/** Probe's findings, also its `--json` output. */
export interface ProbeResult {
  hid: RecognisedDevice[];
  otherHidDevices: number;
  hidError?: string;
  notes: string[];
  serialPorts: (SerialPortEntry & { uri: string })[];
  serialError?: string;
}

const message = (err: unknown): string => {
  const text = err instanceof Error ? err.message : String(err);
  return isUps2MqttError(err) ? `${text} [${err.code}]` : text;
};

/** Collects what probe prints. Never throws: each part reports its own failure. */
export async function probe(deps: ProbeDeps): Promise<ProbeResult> {
  const result: ProbeResult = { hid: [], otherHidDevices: 0, notes: [], serialPorts: [] };
  try {
    const devices = await deps.enumerator.list();
    const ups = matchDevices(devices, {});
    result.hid = ups.map(recogniseDevice);
    result.otherHidDevices = devices.filter((d) => !isUpsCandidate(d)).length;
  } catch (err) {
    result.hidError = message(err);
  }
  if (deps.explainMissing) result.notes = await deps.explainMissing().catch(() => []);
  try {
    // SerialPort.list() spawns udevadm on Linux and fails where it is missing.
    const ports = await deps.listSerialPorts();
    result.serialPorts = ports.map((p) => ({ ...p, uri: `apcsmart://${p.path}` }));
  } catch (err) {
    result.serialError = message(err);
  }
  return result;
}

function renderHid(d: RecognisedDevice): string[] {
  const lines = [
    `  ${d.uri}  ${d.vendor ?? 'unknown vendor'}${d.product ? ` "${d.product}"` : ''} at ${d.path}`,
    `    layout:   ${d.layout}`,
  ];
  if (d.problem) lines.push(`    problem:  ${d.problem}`);
  if (d.signals.length > 0) lines.push(`    values:   ${d.signals.join(', ')}`);
  lines.push(`    commands: ${d.commands.length > 0 ? d.commands.join(', ') : 'none'}`);
  if (d.quirks.length > 0) lines.push(`    quirks:   ${d.quirks.join(', ')}`);
  return lines;
}

/** Human-readable probe output. */
export function renderProbe(r: ProbeResult): string {
  const lines = ['USB HID UPSes:'];
  if (r.hidError) lines.push(`  cannot list HID devices: ${r.hidError}`);
  else if (r.hid.length === 0) lines.push('  none found');
  for (const d of r.hid) lines.push(...renderHid(d));
  if (r.otherHidDevices > 0) lines.push(`  (${r.otherHidDevices} other HID devices ignored)`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  lines.push('Serial ports (for apcsmart://):');
  if (r.serialError) lines.push(`  cannot list serial ports: ${r.serialError}`);
  else if (r.serialPorts.length === 0) lines.push('  none found');
  for (const p of r.serialPorts) {
    const ids = p.vendorId && p.productId ? ` ${p.vendorId}:${p.productId}` : '';
    lines.push(`  ${p.uri}${p.manufacturer ? `  ${p.manufacturer}` : ''}${ids}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `ups2mqtt probe [--json]`. Exit 0: probing is informational. */
export async function runProbe(json: boolean, deps: ProbeDeps, io: CliIo): Promise<number> {
  const result = await probe(deps);
  io.out(json ? `${JSON.stringify(result, null, 2)}\n` : renderProbe(result));
  return 0;
}

/** Options of `hid dump`. */
export interface DumpCliOptions {
  source: string;
  waitMs: number;
  maxInputs: number;
}

/** Reads `--source URI` and `--wait SECONDS` from the flags main did not handle. */
export function dumpOptions(rest: readonly string[]): DumpCliOptions {
  const out: DumpCliOptions = { source: 'hid://auto', waitMs: 5000, maxInputs: 10 };
  for (let i = 0; i < rest.length; i++) {
    const [flag = '', inline] = (rest[i] ?? '').split('=', 2);
    const value = (): string => inline ?? rest[++i] ?? '';
    if (flag === '--source') out.source = value();
    else if (flag === '--wait') out.waitMs = Math.max(0, Number(value()) * 1000 || 0);
  }
  return out;
}

/**
 * `ups2mqtt hid dump [--source URI] [--wait S] > ups.json`. Runs on the system clock (real
 * pacing and waiting), with the process held alive meanwhile.
 */
export function runHidDump(
  opts: DumpCliOptions,
  enumeratorFor: (source: string) => HidEnumerator,
  io: CliIo,
): Promise<number> {
  return held(() => dump(opts, enumeratorFor, io));
}

async function dump(
  opts: DumpCliOptions,
  enumeratorFor: (source: string) => HidEnumerator,
  io: CliIo,
): Promise<number> {
  let spec: ReturnType<typeof parseSourceUri>;
  try {
    spec = parseSourceUri(opts.source);
  } catch (err) {
    io.err(`ups2mqtt hid dump: ${message(err)}\n`);
    return 78;
  }
  if (spec.kind !== 'hid' && spec.kind !== 'hid-replay') {
    io.err('ups2mqtt hid dump: --source must be hid://… or hid-replay://…\n');
    return 78;
  }
  const { kind: _k, ...selector } = spec.kind === 'hid' ? spec : { kind: 'hid' as const };
  try {
    const enumerator = enumeratorFor(opts.source);
    const [device] = matchDevices(await enumerator.list(), selector);
    if (!device) {
      io.err(`ups2mqtt hid dump: no HID UPS matches ${selectorText(selector)}\n`);
      return 1;
    }
    if (!device.descriptor) {
      io.err(
        'ups2mqtt hid dump: the report descriptor cannot be read on this platform (Linux sysfs only)\n',
      );
      return 1;
    }
    const transport = await enumerator.open(device);
    try {
      const capture = await dumpDevice(device, device.descriptor, transport, {
        clock: systemClock,
        inputWaitMs: opts.waitMs,
        maxInputs: opts.maxInputs,
        timeoutMs: 2000,
        minGapMs: 20,
        tool: `ups2mqtt ${packageInfo().version} hid dump`,
      });
      io.out(`${JSON.stringify(capture, null, 1)}\n`);
      const serialNote = capture.serialNumber ? '; the file holds the serial number' : '';
      io.err(
        `captured ${Object.keys(capture.featureReports).length} Feature and ${capture.inputReports.length} Input reports${serialNote}\n`,
      );
    } finally {
      await transport.close().catch(() => undefined);
    }
    return 0;
  } catch (err) {
    io.err(`ups2mqtt hid dump: ${message(err)}\n`);
    return 1;
  }
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

async function listSerialPorts(): Promise<SerialPortEntry[]> {
  const { SerialPort } = await import('serialport');
  return SerialPort.list();
}

/** Runs `fn` with the process held alive (the system clock's timers are unref'd). */
async function held<T>(fn: () => Promise<T>): Promise<T> {
  const release = holdProcess();
  try {
    return await fn();
  } finally {
    release();
  }
}

/** The real system's probe (the composition root calls this). */
export function probeCli(args: ParsedArgs): Promise<number> {
  const linux = process.platform === 'linux';
  return runProbe(
    args.json,
    {
      enumerator: createSystemEnumerator({ platform: process.platform }),
      listSerialPorts,
      ...(linux ? { explainMissing: () => explainUnbound() } : {}),
    },
    processIo,
  );
}

/** The real system's dump (the composition root calls this). */
export function hidDumpCli(args: ParsedArgs): Promise<number> {
  return runHidDump(
    dumpOptions(args.rest),
    (source) => {
      const spec = parseSourceUri(source);
      return spec.kind === 'hid-replay'
        ? new ReplayFileEnumerator(replayPath(spec, process.cwd()))
        : createSystemEnumerator({ platform: process.platform });
    },
    processIo,
  );
}

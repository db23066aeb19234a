/**
 * Finding, opening and understanding one HID UPS: enumerate, select, parse the descriptor
 * (or take a built-in map), apply quirks, open the transport, and plan which Feature reports
 * each poll reads. Every failure is a coded Ups2MqttError whose message says what to do.
 */

import type { Clock } from '../../core/clock.ts';
import { isUps2MqttError, Ups2MqttError } from '../../core/errors.ts';
import { type CommandFields, commandFields } from './commands.ts';
import { type ParsedDescriptor, parseReportDescriptor } from './descriptor/parser.ts';
import { fallbackDescriptor, fallbackMapFor } from './fallback-maps.ts';
import { vidPid } from './identity.ts';
import { type QuirkEffects, quirkEffects, quirksFor } from './quirks.ts';
import { ReportMap } from './report-map.ts';
import { deviceLabel, type HidSelector, matchDevices, selectorText } from './select.ts';
import { HidSession } from './session.ts';
import { SIGNAL_NAMES, SIGNALS, type SignalName } from './signals.ts';
import { type HidDeviceInfo, type HidEnumerator, HidTransportError } from './transport.ts';

/** An open, understood UPS. */
export interface HidConnection {
  device: HidDeviceInfo;
  session: HidSession;
  map: ReportMap;
  /** `descriptor`, or the id of the built-in map used instead. */
  layout: string;
  quirkIds: string[];
  quirks: QuirkEffects;
  commands: CommandFields;
  /** Candidate paths per signal, best first. */
  signalPaths: Record<SignalName, readonly string[]>;
}

/** What connecting needs. */
export interface ConnectOptions {
  selector: HidSelector;
  enumerator: HidEnumerator;
  clock: Clock;
  timeoutMs: number;
  minGapMs: number;
  /** Extra lines for the "not found" message (e.g. a UPS claimed by NUT, sysfs.ts). */
  explainMissing?: () => Promise<string[]>;
}

/** Largest Feature report a full-speed HID device sends, ID byte included. */
const FULL_BUFFER = 65;

function notFound(sel: HidSelector, seen: HidDeviceInfo[], extra: string[]): Ups2MqttError {
  const lines = seen.length === 0 ? ['no HID devices are visible'] : seen.map(deviceLabel);
  const wanted = selectorText(sel);
  return new Ups2MqttError(
    'CONNECT_FAILED',
    `no HID UPS matches ${wanted}; seen: ${[...lines, ...extra].join('; ')}`,
    { context: { reason: 'not_found', selector: wanted, seen: seen.length } },
  );
}

function describeLayout(device: HidDeviceInfo): { descriptor: ParsedDescriptor; layout: string } {
  if (device.descriptor !== undefined) {
    return { descriptor: parseReportDescriptor(device.descriptor), layout: 'descriptor' };
  }
  const fallback = fallbackMapFor(device);
  if (!fallback) {
    throw new Ups2MqttError(
      'SOURCE_UNSUPPORTED',
      `the report descriptor of ${vidPid(device.vendorId, device.productId)} cannot be read on this platform and there is no built-in map for "${device.product ?? 'this model'}"`,
      { context: { reason: 'no_descriptor', path: device.path } },
    );
  }
  return { descriptor: fallbackDescriptor(fallback), layout: fallback.id };
}

/** Resolves every signal's candidate paths. */
export function resolveSignals(map: ReportMap): Record<SignalName, readonly string[]> {
  const out = {} as Record<SignalName, readonly string[]>;
  for (const name of SIGNAL_NAMES) out[name] = map.resolve(SIGNALS[name].patterns);
  return out;
}

/**
 * Feature reports a poll reads: for each signal, the report of its best path that has a
 * Feature item and is not known to fail. Volatile signals every poll, static ones now and then.
 */
export function planPolls(
  conn: Pick<HidConnection, 'map' | 'signalPaths'>,
  unsupported: ReadonlySet<number>,
): { volatile: number[]; static: number[] } {
  const volatile = new Set<number>();
  const still = new Set<number>();
  for (const name of SIGNAL_NAMES) {
    for (const path of conn.signalPaths[name]) {
      const f = conn.map.fieldsAt(path).find((x) => x.kind === 'feature');
      if (!f || unsupported.has(f.reportId)) continue;
      (SIGNALS[name].volatile ? volatile : still).add(f.reportId);
      break;
    }
  }
  for (const id of volatile) still.delete(id);
  return { volatile: [...volatile], static: [...still] };
}

/** Finds, opens and describes the UPS. */
export async function connectHid(opts: ConnectOptions): Promise<HidConnection> {
  const seen = await opts.enumerator.list();
  const [device] = matchDevices(seen, opts.selector);
  if (!device) {
    const extra = opts.explainMissing ? await opts.explainMissing().catch(() => []) : [];
    throw notFound(opts.selector, seen, extra);
  }
  const { descriptor, layout } = describeLayout(device);
  const map = new ReportMap(descriptor);
  const quirks = quirksFor(device);
  const effects = quirkEffects(quirks);
  let transport: Awaited<ReturnType<HidEnumerator['open']>>;
  try {
    transport = await opts.enumerator.open(device);
  } catch (err) {
    if (isUps2MqttError(err)) throw err;
    throw new Ups2MqttError(
      'CONNECT_FAILED',
      `cannot open ${deviceLabel(device)}: ${String(err)}`,
      {
        cause: err,
        context: { reason: err instanceof HidTransportError ? err.failure : 'open_failed' },
      },
    );
  }
  const wholeBuffer = layout !== 'descriptor' || effects.maxReportBuffer === true;
  const session = new HidSession(transport, map, {
    clock: opts.clock,
    timeoutMs: opts.timeoutMs,
    minGapMs: opts.minGapMs,
    bufferLength: wholeBuffer ? Math.max(FULL_BUFFER, map.maxReportLength()) : 0,
    exactLengths: layout === 'descriptor',
    device: deviceLabel(device),
  });
  return {
    device,
    session,
    map,
    layout,
    quirkIds: quirks.map((q) => q.id),
    quirks: effects,
    commands: commandFields(map),
    signalPaths: resolveSignals(map),
  };
}

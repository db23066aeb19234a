/**
 * What `hid-replay://` can say about a capture that has a report descriptor but no report
 * values (users attach what their tool saved): the device's identity and, per signal of the
 * mapping, the report and path ups2mqtt would read on the real UPS. Pure.
 */

import type { UpsData } from '../../core/state.ts';
import { captureDevice, type HidCapture } from './capture.ts';
import { resolveSignals } from './connect.ts';
import { parseReportDescriptor } from './descriptor/parser.ts';
import { identityOf } from './identity.ts';
import { ReportMap } from './report-map.ts';
import { SIGNAL_NAMES } from './signals.ts';

/** One signal the mapping would read, and from where. */
export interface PlannedRead {
  signal: string;
  path: string;
  /** `feature 0x0c` or `input 0x0c`. */
  report: string;
}

/** The identity and read plan of a descriptor-only capture. */
export interface CapturePlan {
  identity: UpsData;
  reads: PlannedRead[];
  /** Signals the descriptor offers no path for. */
  missing: string[];
  note: string;
}

/** True when the capture holds no report values at all (descriptor only). */
export function isDescriptorOnly(c: HidCapture): boolean {
  return Object.keys(c.featureReports).length === 0 && c.inputReports.length === 0;
}

export const DESCRIPTOR_ONLY_NOTE =
  'this capture has a report descriptor but no report values, so there is nothing to read: ' +
  'shown are the identity and what ups2mqtt would read on the real UPS. ' +
  'A capture from `ups2mqtt hid dump` includes the values.';

/** Identity and per-signal read plan from the capture's descriptor. */
export function capturePlan(c: HidCapture): CapturePlan {
  const device = captureDevice(c, 'capture');
  const map = new ReportMap(parseReportDescriptor(device.descriptor ?? new Uint8Array()));
  const paths = resolveSignals(map);
  const reads: PlannedRead[] = [];
  const missing: string[] = [];
  for (const signal of SIGNAL_NAMES) {
    const path = paths[signal][0];
    // Polls read Feature reports; an Input-only path is read from interrupt reports.
    const fields = path === undefined ? [] : map.fieldsAt(path);
    const field = fields.find((f) => f.kind === 'feature') ?? fields[0];
    if (path === undefined || field === undefined) {
      missing.push(signal);
      continue;
    }
    reads.push({
      signal,
      path,
      report: `${field.kind} 0x${field.reportId.toString(16).padStart(2, '0')}`,
    });
  }
  return { identity: identityOf(device), reads, missing, note: DESCRIPTOR_ONLY_NOTE };
}

/** The plan as text for `ups2mqtt status`. */
export function renderCapturePlan(p: CapturePlan): string {
  const lines = [`note: ${p.note}`, ''];
  for (const [k, v] of Object.entries(p.identity)) lines.push(`${k} : ${String(v)}`);
  lines.push('', 'would read:');
  const width = Math.max(0, ...p.reads.map((r) => r.signal.length));
  for (const r of p.reads) lines.push(`  ${r.signal.padEnd(width)}  ${r.report}  ${r.path}`);
  if (p.missing.length > 0)
    lines.push('', `not offered by this descriptor: ${p.missing.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

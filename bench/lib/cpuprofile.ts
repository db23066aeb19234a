/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks where the time went,
 * by function and by file. Pure over the parsed JSON, so it is unit-tested with a tiny
 * hand-made profile.
 */
import { Ups2MqttError } from '../../src/core/errors.ts';

/** The parts of the V8 CPU profile format used here. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  /** Microseconds between consecutive samples (the first is from the profile start). */
  readonly timeDeltas: readonly number[];
}

/** One ranked entry. */
export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  /** Share of all sampled time, idle included, in percent. */
  readonly pct: number;
}

/** Ranked self time. */
export interface ProfileSummary {
  readonly totalMs: number;
  /** Time V8 reported as `(idle)`: the event loop waiting. */
  readonly idleMs: number;
  readonly functions: readonly ProfileEntry[];
  readonly files: readonly ProfileEntry[];
}

/** Narrows parsed JSON to a {@link CpuProfile}. */
export function asCpuProfile(value: unknown): CpuProfile {
  const v = value as Partial<CpuProfile> | null;
  if (
    typeof v !== 'object' ||
    v === null ||
    !Array.isArray(v.nodes) ||
    !Array.isArray(v.samples) ||
    !Array.isArray(v.timeDeltas)
  ) {
    throw new Ups2MqttError('PROTOCOL_ERROR', 'not a V8 cpuprofile');
  }
  return v as CpuProfile;
}

/**
 * A short file name: the part after the last `node_modules/` (so `mqtt/build/lib/...`),
 * else after `/src/` or `/bench/` (so `src/bridge/...`), else the URL itself; V8's own
 * pseudo-frames have no URL and keep their name (`(garbage collector)`, `(program)`).
 */
export function shortFile(url: string): string {
  if (url === '') return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const src = path.search(/\/(src|bench|test)\//);
  if (src >= 0) return path.slice(src + 1);
  return path;
}

/** Self time per function and per file, largest first, `top` of each. */
export function summarizeProfile(profile: CpuProfile, top = 20): ProfileSummary {
  const byNode = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    byNode.set(nodeId, (byNode.get(nodeId) ?? 0) + us);
  });
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let idle = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += us;
    const file = shortFile(url);
    const name =
      url === '' ? functionName : `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const fileKey = url === '' ? functionName : file;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        selfMs: Math.round(us / 100) / 10,
        pct: total === 0 ? 0 : Math.round((us / total) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(total / 100) / 10,
    idleMs: Math.round(idle / 100) / 10,
    functions: rank(functions),
    files: rank(files),
  };
}

/** One calling chain of a function and the self time spent under it. */
export interface CallerChain {
  /** Callers, nearest first (`name file:line`). */
  readonly chain: readonly string[];
  readonly selfMs: number;
  readonly pct: number;
}

/**
 * Who called `functionName`: its self time grouped by the chain of its nearest `depth`
 * callers (with `skipNodeInternals`, callers outside `node:` modules only), largest first.
 * Answers "which code path pays for this syscall".
 */
export function callersOf(
  profile: CpuProfile,
  functionName: string,
  depth = 6,
  top = 3,
  skipNodeInternals = false,
): CallerChain[] {
  const parent = new Map<number, number>();
  const byId = new Map<number, CpuProfile['nodes'][number]>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    self.set(nodeId, (self.get(nodeId) ?? 0) + us);
  });
  const chains = new Map<string, { chain: string[]; us: number }>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName !== functionName) continue;
    const chain: string[] = [];
    for (
      let at = parent.get(node.id);
      at !== undefined && chain.length < depth;
      at = parent.get(at)
    ) {
      const caller = byId.get(at);
      if (caller === undefined || caller.callFrame.functionName === '(root)') break;
      const { functionName: name, url, lineNumber } = caller.callFrame;
      // Node's own stream and socket plumbing says little about *which* code paid.
      if (skipNodeInternals && url.startsWith('node:')) continue;
      chain.push(`${name || '(anonymous)'} ${shortFile(url)}:${lineNumber + 1}`);
    }
    const key = chain.join('\n');
    const entry = chains.get(key) ?? { chain, us: 0 };
    entry.us += us;
    chains.set(key, entry);
  }
  return [...chains.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((c) => ({
      chain: c.chain,
      selfMs: Math.round(c.us / 100) / 10,
      pct: total === 0 ? 0 : Math.round((c.us / total) * 1000) / 10,
    }));
}

/**
 * The production enumerator. On Linux, devices are listed from sysfs (no native code, and
 * the report descriptor comes with them) and opened through node-hid's hidraw backend;
 * elsewhere node-hid does both and the descriptor is unavailable (fallback-maps.ts).
 */

import { importNodeHid, NodeHidEnumerator, type NodeHidLoader } from './node-hid.ts';
import { LINUX_PATHS, listSysfsHidDevices, type SysfsPaths } from './sysfs.ts';
import type { HidDeviceInfo, HidEnumerator, HidTransport } from './transport.ts';

/** Options of createSystemEnumerator; the defaults are the real system. */
export interface SystemEnumeratorOptions {
  platform: NodeJS.Platform;
  sysfs?: SysfsPaths;
  loadNodeHid?: NodeHidLoader;
}

class LinuxEnumerator implements HidEnumerator {
  constructor(
    private readonly paths: SysfsPaths,
    private readonly nodeHid: NodeHidEnumerator,
  ) {}

  list(): Promise<HidDeviceInfo[]> {
    return listSysfsHidDevices(this.paths);
  }

  open(device: HidDeviceInfo): Promise<HidTransport> {
    return this.nodeHid.open(device);
  }
}

/** The enumerator for this platform. */
export function createSystemEnumerator(opts: SystemEnumeratorOptions): HidEnumerator {
  const nodeHid = new NodeHidEnumerator(opts.loadNodeHid ?? importNodeHid);
  if (opts.platform === 'linux') return new LinuxEnumerator(opts.sysfs ?? LINUX_PATHS, nodeHid);
  return nodeHid;
}

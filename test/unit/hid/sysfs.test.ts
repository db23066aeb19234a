import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { explainUnbound } from '../../../src/sources/hid/create.ts';
import { hexToBytes } from '../../../src/sources/hid/descriptor/items.ts';
import {
  findUnboundUsbUps,
  listSysfsHidDevices,
  type SysfsPaths,
} from '../../../src/sources/hid/sysfs.ts';
import { ES850G2, loadCapture } from './helpers.ts';

/** A small sysfs: an APC UPS on hidraw0, a keyboard on hidraw1, a CyberPower claimed via usbfs. */
async function fakeSysfs(root: string): Promise<SysfsPaths> {
  const sys = join(root, 'sys');
  const bus = join(sys, 'devices', 'pci0000:00', 'usb1');
  const put = async (dir: string, files: Record<string, string | Uint8Array>) => {
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  };
  const usbDevice = async (
    port: string,
    vid: string,
    pid: string,
    extra: Record<string, string>,
  ) => {
    await put(join(bus, port), { idVendor: `${vid}\n`, idProduct: `${pid}\n`, ...extra });
    await put(join(bus, port, `${port}:1.0`), { bInterfaceNumber: '00\n' });
    await mkdir(join(sys, 'bus', 'usb', 'devices'), { recursive: true });
    await symlink(join(bus, port), join(sys, 'bus', 'usb', 'devices', port));
  };
  const hidraw = async (
    n: number,
    port: string,
    hidName: string,
    uevent: string,
    descriptor: Uint8Array,
  ) => {
    const hidDir = join(bus, port, `${port}:1.0`, hidName);
    await put(hidDir, { uevent, report_descriptor: descriptor });
    await mkdir(join(sys, 'class', 'hidraw', `hidraw${n}`), { recursive: true });
    await symlink(hidDir, join(sys, 'class', 'hidraw', `hidraw${n}`, 'device'));
  };
  await usbDevice('1-1', '051d', '0002', {
    product: 'Back-UPS ES 850G2 FW:938.a2 .I USB FW:a2\n',
    manufacturer: 'American Power Conversion\n',
    serial: '4B1234P56789  \n',
  });
  await hidraw(
    0,
    '1-1',
    '0003:051D:0002.0001',
    'DRIVER=hid-generic\nHID_ID=0003:0000051D:00000002\nHID_NAME=American Power Conversion Back-UPS ES 850G2\n',
    hexToBytes(loadCapture(ES850G2).descriptorHex),
  );
  await usbDevice('1-3', '046d', 'c52b', {});
  await hidraw(
    1,
    '1-3',
    '0003:046D:C52B.0002',
    'HID_ID=0003:0000046D:0000C52B\nHID_NAME=Logitech USB Receiver\nHID_UNIQ=\n',
    hexToBytes('05 01 09 06 a1 01 c0'),
  );
  await usbDevice('1-2', '0764', '0501', { product: 'CP1500PFCLCD\n' });
  await mkdir(join(sys, 'bus', 'usb', 'drivers', 'usbfs'), { recursive: true });
  await symlink(join(sys, 'bus', 'usb', 'drivers', 'usbfs'), join(bus, '1-2', '1-2:1.0', 'driver'));
  return { sysRoot: sys, devRoot: join(root, 'dev') };
}

describe('sysfs enumeration', () => {
  let root = '';
  let paths: SysfsPaths;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'ups2mqtt-sysfs-'));
    paths = await fakeSysfs(root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('lists hidraw nodes with ids, USB strings, descriptor and usage page', async () => {
    const list = await listSysfsHidDevices(paths);
    assert.equal(list.length, 2);
    const [ups, kbd] = list;
    assert.deepEqual(
      { ...ups, descriptor: ups?.descriptor?.length },
      {
        path: join(paths.devRoot, 'hidraw0'),
        vendorId: 0x051d,
        productId: 0x0002,
        interfaceNumber: 0,
        product: 'Back-UPS ES 850G2 FW:938.a2 .I USB FW:a2',
        manufacturer: 'American Power Conversion',
        serialNumber: '4B1234P56789',
        usagePage: 0x84,
        usage: 0x04,
        descriptor: 1049,
      },
    );
    assert.deepEqual(
      [kbd?.vendorId, kbd?.usagePage, kbd?.product],
      [0x046d, 1, 'Logitech USB Receiver'],
    );
  });

  it('finds a UPS on USB that has no hidraw node and names the user-space claim', async () => {
    assert.deepEqual(await findUnboundUsbUps(paths), [
      {
        vendorId: 0x0764,
        productId: 0x0501,
        busPath: '1-2',
        product: 'CP1500PFCLCD',
        driver: 'usbfs',
      },
    ]);
    assert.deepEqual(await explainUnbound(paths), [
      '0764:0501 "CP1500PFCLCD" is on USB but has no hidraw node (claimed by a user-space program such as NUT usbhid-ups or apcupsd)',
    ]);
  });

  it('a machine without a hidraw class lists nothing', async () => {
    const none = { sysRoot: join(root, 'nowhere'), devRoot: '/dev' };
    assert.deepEqual(await listSysfsHidDevices(none), []);
    assert.deepEqual(await findUnboundUsbUps(none), []);
  });

  it('the real /sys can be listed without throwing', async () => {
    assert.ok(Array.isArray(await listSysfsHidDevices()));
  });
});

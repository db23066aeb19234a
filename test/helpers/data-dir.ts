/**
 * A private `data_dir` for a bridge started by a test. Without one the bridge writes its
 * outage and energy files to `./data` in the checkout, and the next run would start from the
 * figures the previous one left. Removed when the test process exits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder for UPS2MQTT_DATA_DIR. */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ups2mqtt-data-'));
  made.push(dir);
  return dir;
}

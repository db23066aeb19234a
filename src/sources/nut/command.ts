import { systemClock } from '../../core/clock.ts';
import { isUps2MqttError } from '../../core/errors.ts';
import { NutConnection, type NutConnectionOptions } from './connection.ts';
import { nutRequestLine } from './protocol.ts';

/**
 * Sends one instant command on a connection of its own: USERNAME, PASSWORD, INSTCMD, then
 * LOGOUT. A separate connection keeps the shared reading session free of a login (upsd
 * allows USERNAME once per session). With protocol 1.3 (NUT ≥ 2.8) the command is tracked
 * (`SET TRACKING ON`, `GET TRACKING <id>`) so the result says what the driver did, not
 * only that upsd passed it on; `trackingMs` bounds that wait.
 */
export async function sendNutCommand(
  opts: NutConnectionOptions & {
    ups: string;
    command: string;
    username?: string | undefined;
    password?: string | undefined;
    trackingMs?: number;
    trackingPollMs?: number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<{ tracked: boolean; status: 'SUCCESS' | 'PENDING' | 'SENT' }> {
  const conn = await NutConnection.open(opts);
  try {
    if (opts.username !== undefined) await conn.single(nutRequestLine(['USERNAME', opts.username]));
    if (opts.password !== undefined) await conn.single(nutRequestLine(['PASSWORD', opts.password]));
    let tracked = false;
    try {
      const reply = await conn.single('SET TRACKING ON');
      tracked = reply[0] === 'OK';
    } catch (err) {
      // Protocol 1.2 servers do not know tracking; the command still goes.
      if (!isUps2MqttError(err) || err.context.nutError === undefined) throw err;
    }
    const reply = await conn.single(nutRequestLine(['INSTCMD', opts.ups, opts.command]));
    const id = reply[0] === 'OK' && reply[1] === 'TRACKING' ? reply[2] : undefined;
    if (!tracked || id === undefined) return { tracked: false, status: 'SENT' };
    const clock = opts.clock ?? systemClock;
    const sleep =
      opts.sleep ?? ((ms: number) => new Promise<void>((r) => clock.setTimeout(() => r(), ms)));
    const until = clock.now() + (opts.trackingMs ?? 5000);
    for (;;) {
      const state = await conn.single(nutRequestLine(['GET', 'TRACKING', id]));
      if (state[0] === 'SUCCESS') return { tracked: true, status: 'SUCCESS' };
      if (clock.now() >= until) return { tracked: true, status: 'PENDING' };
      await sleep(opts.trackingPollMs ?? 100);
    }
  } finally {
    await conn.logout();
  }
}

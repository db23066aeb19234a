import type { BridgeApp } from '../bridge/app.ts';
import { EXIT_CONFIG, formatProblems, loadConfig } from '../config/load.ts';
import type { Logger } from '../core/log.ts';
import type { ParsedArgs } from './args.ts';
import { createLogger } from './logger.ts';
import { startBridge, stopOnSignals } from './run.ts';
import { statusServerOf } from './status-server.ts';

/** Takes `--demo-port N` / `--demo-speed N` out of the flags convict sees. */
function takeDemoFlags(rest: string[]): { port: number; speed: number; rest: string[] } {
  let port = 1883;
  let speed = 10;
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] ?? '';
    const [flag, inline] = a.split('=', 2);
    if (flag === '--demo-port' || flag === '--demo-speed') {
      const value = Number(inline ?? rest[++i]);
      if (flag === '--demo-port' && Number.isInteger(value) && value >= 0 && value < 65536)
        port = value;
      if (flag === '--demo-speed' && value > 0) speed = value;
    } else {
      out.push(a);
    }
  }
  return { port, speed, rest: out };
}

function instructions(
  url: string,
  port: number,
  upsId: string,
  base: string,
  keys: boolean,
  page: string | undefined,
): string {
  const cmd = (name: string) =>
    `mosquitto_pub -h 127.0.0.1 -p ${port} -t ${base}/${upsId}/command/${name} -n`;
  return [
    '',
    `ups2mqtt demo: a simulated UPS "${upsId}" is published to the embedded broker ${url}`,
    '',
    '  Watch the topics:',
    `    mosquitto_sub -h 127.0.0.1 -p ${port} -v -t '${base}/#' -t 'homeassistant/device/#'`,
    '  Pull the simulated plug / restore mains / run a self-test:',
    keys
      ? '    press  p  /  r  /  t     (or use the command topics below)'
      : '    (stdin is not a terminal: use the command topics)',
    `    ${cmd('simulate.power_fail')}`,
    `    ${cmd('simulate.power_restore')}`,
    `    ${cmd('test.battery.start.quick')}`,
    ...(page ? [`  Status page: ${page}`] : []),
    "  Point Home Assistant's MQTT integration at this broker to see the device.",
    '  Stop: Ctrl-C',
    '',
  ].join('\n');
}

/** Keys p / r / t send the matching command to the simulated UPS. */
function listenForKeys(app: BridgeApp, logger: Logger): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  stdin.resume();
  const keys: Record<string, string> = {
    p: 'simulate.power_fail',
    r: 'simulate.power_restore',
    t: 'test.battery.start.quick',
  };
  const onData = (data: Buffer): void => {
    const key = data.toString('utf8');
    if (key === '\u0003') {
      process.kill(process.pid, 'SIGINT');
      return;
    }
    const command = keys[key.toLowerCase()];
    if (!command) return;
    // Through the command router's guards, logged and published like an MQTT command.
    void app
      .runCommand(0, command)
      .then((result) => {
        if (!result) logger.warn({ command }, 'the UPS has not been read yet; try again');
      })
      .catch((err: unknown) => logger.warn({ err, command }, 'command failed'));
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

/** `ups2mqtt demo`: embedded broker + simulated UPS + the real bridge. */
export async function runDemo(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const { port, speed, rest } = takeDemoFlags(args.rest);
  const bootLogger = createLogger({
    level: env.UPS2MQTT_LOG_LEVEL ?? 'info',
    format: 'auto',
    isTty: process.stderr.isTTY === true,
  });
  const { startEmbeddedBroker } = await import('../demo/broker.ts');
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port,
    fallbackToFreePort: true,
    logger: bootLogger.child({ module: 'broker' }),
  });
  const result = loadConfig({
    env: {
      ...env,
      UPS2MQTT_SOURCE: `sim://Smart-UPS 1500?speed=${speed}&serial=SIMDEMO0001`,
      UPS2MQTT_UPS_ID: 'demo',
      UPS2MQTT_UPS_NAME: env.UPS2MQTT_UPS_NAME ?? 'Demo UPS',
      UPS2MQTT_MQTT_URL: broker.url,
      // The embedded broker (aedes) speaks MQTT 3.1.1 only.
      UPS2MQTT_MQTT_PROTOCOL_VERSION: '4',
      UPS2MQTT_MQTT_USERNAME: '',
      UPS2MQTT_MQTT_PASSWORD: '',
      UPS2MQTT_UPSES: '',
    },
    args: rest,
  });
  if (!result.ok) {
    await broker.close();
    process.stderr.write(
      `ups2mqtt demo: invalid configuration:\n${formatProblems(result.problems)}\n`,
    );
    return EXIT_CONFIG;
  }
  const logger = createLogger({ ...result.config.log, isTty: process.stderr.isTTY === true });
  const app = await startBridge(result.config, logger);
  const page = statusServerOf(app)?.address?.url;
  process.stdout.write(
    instructions(
      broker.url,
      broker.port,
      'demo',
      result.config.mqtt.baseTopic,
      process.stdin.isTTY === true,
      page,
    ),
  );
  const stopKeys = listenForKeys(app, logger);
  await stopOnSignals(app, logger, async () => {
    stopKeys();
    await broker.close();
  });
  return 0;
}

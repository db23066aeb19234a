import { ManualClock } from '../../../src/core/clock.ts';
import { Ups2MqttError } from '../../../src/core/errors.ts';
import type {
  CommandArgs,
  CommandOutcome,
  SourceCapabilities,
  SourceReading,
  UpsSource,
} from '../../../src/core/source.ts';
import type { UpsData } from '../../../src/core/state.ts';
import type { PublishOptions } from '../../../src/mqtt/gateway.ts';
import { settle } from '../../helpers/settle.ts';

/** A published message as the broker would see it. */
export interface Published {
  topic: string;
  payload: string;
  retain: boolean;
  qos: 0 | 1 | undefined;
}

/** Records every publish, in order. */
export class RecordingPublisher {
  readonly messages: Published[] = [];
  async publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<boolean> {
    this.messages.push({ topic, payload: payload.toString(), retain: opts.retain, qos: opts.qos });
    return true;
  }
  on(topic: string): Published[] {
    return this.messages.filter((m) => m.topic === topic);
  }
  last(topic: string): Published | undefined {
    return this.on(topic).at(-1);
  }
  clear(): void {
    this.messages.length = 0;
  }
}

type Step =
  | { data: UpsData; events?: SourceReading['events']; nativeEvents?: boolean }
  | { error: Ups2MqttError }
  | 'hang';

/** A source that answers from a script; `hang` never resolves until aborted. */
export class ScriptedSource implements UpsSource {
  readonly description = 'fake://ups';
  next: Step = { data: {} };
  reads = 0;
  commands: { name: string; args: CommandArgs }[] = [];
  private wake: (() => void) | undefined;

  constructor(private readonly caps: SourceCapabilities = { commands: [], stickyFields: [] }) {}

  capabilities(): SourceCapabilities {
    return this.caps;
  }
  async open(): Promise<void> {}
  read(signal: AbortSignal): Promise<SourceReading> {
    this.reads++;
    const step = this.next;
    if (step === 'hang') {
      return new Promise((_, reject) => {
        signal.addEventListener('abort', () => reject(new Ups2MqttError('ABORTED', 'aborted')));
      });
    }
    if ('error' in step) return Promise.reject(step.error);
    return Promise.resolve({
      data: step.data,
      events: step.events ?? [],
      nativeEvents: step.nativeEvents ?? false,
    });
  }
  onWake(listener: () => void): () => void {
    this.wake = listener;
    return () => {
      this.wake = undefined;
    };
  }
  triggerWake(): void {
    this.wake?.();
  }
  async command(name: string, args: CommandArgs): Promise<CommandOutcome> {
    this.commands.push({ name, args });
    return { message: `did ${name}` };
  }
  async close(): Promise<void> {}
}

export { captureLogger } from '../../helpers/log-capture.ts';

/** Advances a manual clock and lets the async work it triggered finish. */
export async function tick(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await settle();
}

export { ManualClock };

import type { UpsEvent } from './events.ts';
import type { UpsData, UpsStateKey } from './state.ts';

/** What a source can do. Nothing downstream asks which kind of source it is. */
export interface SourceCapabilities {
  /** NUT-style instant-command names the source can execute (NIS: none). */
  readonly commands: readonly string[];
  /**
   * Keys the source can report even when the current reading lacks them (apcupsd drops
   * XONBATT after a restart, LASTSTEST until a test ran). They are discovered anyway so
   * Home Assistant entities do not come and go (home-assistant/core #134946).
   */
  readonly stickyFields: readonly UpsStateKey[];
}

/** One successful read of a UPS. */
export interface SourceReading {
  data: UpsData;
  /** Events from the source's own log (apcupsd `events`), oldest first; new ones only. */
  events: UpsEvent[];
  /**
   * True when the source's log covers power, battery, self-test and comm transitions,
   * so the bridge must not derive those from state changes (no duplicates).
   */
  nativeEvents: boolean;
  /** Fields the source did not recognise, raw, for diagnostics. Never fatal. */
  unknown?: Record<string, string>;
}

/** Arguments of a command, already validated by the command guard. */
export interface CommandArgs {
  delay_s?: number;
}

/** What a command did at the UPS. */
export interface CommandOutcome {
  message?: string;
}

/**
 * A UPS data source. Lifecycle: construct (assign only) → open() → read()… → close().
 * read() may be called again after it threw; the source reconnects by itself.
 */
export interface UpsSource {
  /** The source URI with any password masked, for logs. */
  readonly description: string;
  capabilities(): SourceCapabilities;
  open(): Promise<void>;
  /** One reading. Rejects with an Ups2MqttError on any transport or protocol failure. */
  read(signal: AbortSignal): Promise<SourceReading>;
  /** Registers a listener called when the source knows the state changed (alert, input report). */
  onWake(listener: () => void): () => void;
  /** Executes an advertised command. */
  command(name: string, args: CommandArgs): Promise<CommandOutcome>;
  close(): Promise<void>;
}

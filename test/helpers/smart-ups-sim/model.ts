/**
 * The behaviour of a Smart-UPS on its serial port (docs/protocols/apcsmart.md), driven by tests: answers
 * from the real SU420 transcript, alert characters as a real unit sends them, self-test,
 * simulated failure, calibration, the shutdown family with its timing rules, EEPROM steps,
 * `NA` for anything unknown, and a log of every byte received with its arrival time.
 * I/O-free: bytes come in through receive(), go out through the injected `send`.
 */
import { eepromChoices, SU420_EEPROM, su420Replies } from './su420.ts';
import { DEFAULT_SIM_TIMING, NamedTimers, type SimTiming } from './timing.ts';

export { DEFAULT_SIM_TIMING, type SimTiming } from './timing.ts';

/** What the model needs from its host. */
export interface SimHost {
  send(bytes: string): void;
  now(): number;
}

/** One received byte. */
export interface ReceivedByte {
  at: number;
  byte: number;
}

type BatteryCause = 'mains' | 'test' | 'failure' | 'calibration';

export class SmartUpsModel {
  readonly values: Map<string, string> = su420Replies();
  readonly received: ReceivedByte[] = [];
  /** Timing rules the client broke, in words. */
  readonly violations: string[] = [];
  readonly timing: SimTiming;
  smartMode = false;
  mains = true;
  outputOn = true;
  lowBattery = false;
  replaceBattery = false;
  overload = false;
  /** Result `X` reports after a self-test. */
  selfTestResult = 'OK';
  /** Shutdowns that reached the output, in order (`S`, `@000`, `K K`, `Z Z`). */
  readonly shutdowns: string[] = [];
  private cause: BatteryCause | undefined;
  private readonly mainsValues = new Map<string, string>();
  private readonly timers = new NamedTimers();
  private pendingDouble: { key: string; at: number } | undefined;
  private pendingDigits: { digits: string; last: number } | undefined;
  private lastQuery: string | undefined;
  private readonly choices = eepromChoices(SU420_EEPROM);

  constructor(
    private readonly host: SimHost,
    timing: Partial<SimTiming> = {},
  ) {
    this.timing = { ...DEFAULT_SIM_TIMING, ...timing };
  }

  /** The `Q` status byte (docs/protocols/apcsmart.md#status-byte-and-code-tables). */
  status(): number {
    if (!this.outputOn) return 0;
    const onBattery = this.cause !== undefined;
    let q = onBattery ? 0x10 : 0x08;
    if (this.cause === 'calibration') q |= 0x01;
    if (this.overload) q |= 0x20;
    if (this.lowBattery) q |= 0x40;
    if (this.replaceBattery) q |= 0x80;
    return q;
  }

  /** Feeds bytes the client wrote. */
  receive(chunk: Uint8Array): void {
    for (const byte of chunk) this.handle(byte);
  }

  /** Sends an alert character now (unframed). */
  alert(ch: string): void {
    this.host.send(ch);
  }

  /** Mains fails: `!` at once and every 30 s; `G` tells why (default `L`, low line). */
  failMains(cause = 'L'): void {
    if (!this.mains) return;
    this.mains = false;
    for (const k of ['L', 'M', 'N', 'F']) this.mainsValues.set(k, this.values.get(k) ?? '');
    this.values.set('L', '000.0');
    this.values.set('F', '00.00');
    this.values.set('G', cause);
    this.toBattery('mains');
  }

  /** Mains returns: `$` (only after a `!`, docs/protocols/apcsmart.md#alert-characters); an output shut down by `S`/`@` comes back. */
  restoreMains(): void {
    if (this.mains) return;
    this.mains = true;
    for (const [k, v] of this.mainsValues) this.values.set(k, v);
    if (this.cause === 'mains') this.toLine();
    if (!this.outputOn && this.shutdowns.at(-1) !== 'K K' && this.shutdowns.at(-1) !== 'Z Z') {
      this.outputOn = true;
    }
  }

  setLowBattery(on: boolean): void {
    if (on === this.lowBattery) return;
    this.lowBattery = on;
    this.alert(on ? '%' : '+');
  }

  stop(): void {
    this.timers.clear();
  }

  private handle(byte: number): void {
    const now = this.host.now();
    this.received.push({ at: now, byte });
    const c = String.fromCharCode(byte);
    if (!this.smartMode) {
      // In dumb mode a unit answers nothing but `Y` (docs/protocols/apcsmart.md#conversation-rules).
      if (c === 'Y') this.enterSmartMode();
      return;
    }
    if (this.pendingDigits !== undefined && this.takeDigit(c, now)) return;
    if (this.pendingDouble !== undefined && this.pendingDouble.key !== c)
      this.pendingDouble = undefined;
    switch (c) {
      case 'Y':
        this.enterSmartMode();
        return;
      case 'R':
        this.smartMode = false;
        this.reply('BYE');
        return;
      case '\x1b':
        return; // ESC: abandons a half-entered command, answers nothing
      case 'Q':
        this.reply(this.status().toString(16).toUpperCase().padStart(2, '0'));
        return;
      case 'W':
        this.selfTest();
        return;
      case 'A':
        this.reply('OK');
        return;
      case 'U':
        this.failureTest();
        return;
      case 'D':
        this.calibration();
        return;
      case 'S':
        if (this.cause !== 'mains') {
          // works on battery only (docs/protocols/apcsmart.md#actions)
          this.reply('NA');
          return;
        }
        this.reply('OK');
        this.shutdownAfterGrace('S');
        return;
      case '@':
        this.pendingDigits = { digits: '', last: now };
        return;
      case 'K':
      case 'Z':
      case '\x0e':
        this.doubleKey(c, now);
        return;
      case '\x7f':
        this.timers.cancel('shutdown');
        this.reply('OK');
        return;
      case '-':
      case '+':
        this.eepromStep(c === '-' ? 1 : -1);
        return;
      default:
        this.lastQuery = c;
        this.reply(this.values.get(c) ?? 'NA');
        return;
    }
  }

  private enterSmartMode(): void {
    this.smartMode = true;
    this.reply('SM');
  }

  private reply(text: string): void {
    this.host.send(`${text}\r\n`);
  }

  private takeDigit(c: string, now: number): boolean {
    const pending = this.pendingDigits;
    if (pending === undefined) return false;
    const gap = now - pending.last;
    if (!/^[0-9]$/.test(c) || gap > this.timing.digitTimeoutMs) {
      this.pendingDigits = undefined;
      return c === '\x1b';
    }
    if (gap < this.timing.minDigitGapMs)
      this.violations.push(`@ digit ${c} only ${Math.round(gap)} ms after the previous byte`);
    pending.digits += c;
    pending.last = now;
    if (pending.digits.length === 3) {
      this.pendingDigits = undefined;
      this.reply('OK');
      this.shutdownAfterGrace(`@${pending.digits}`);
    }
    return true;
  }

  private doubleKey(key: string, now: number): void {
    const first = this.pendingDouble;
    if (first === undefined || now - first.at > this.timing.doubleKeyWindowMs) {
      this.pendingDouble = { key, at: now };
      return; // the first key is answered with nothing
    }
    const gap = now - first.at;
    if (gap < this.timing.doubleKeyMinGapMs) {
      this.violations.push(
        `second ${key === '\x0e' ? '^N' : key} only ${Math.round(gap)} ms after the first`,
      );
      return;
    }
    this.pendingDouble = undefined;
    if (key === 'K') {
      this.reply('OK');
      this.shutdownAfterGrace('K K');
    } else if (key === 'Z') {
      this.shutdowns.push('Z Z');
      this.outputOn = false; // at once, and no reply (docs/protocols/apcsmart.md#actions)
    } else {
      this.outputOn = true;
    }
  }

  private shutdownAfterGrace(how: string): void {
    const grace = this.timing.graceMs ?? Number(this.values.get('p') ?? '20') * 1000;
    this.timers.start('shutdown', grace, () => {
      this.shutdowns.push(how);
      this.outputOn = false;
    });
  }

  private selfTest(): void {
    if (this.cause === 'test') {
      this.reply('OK'); // W during a test stops it
      this.timers.cancel('test');
      this.values.set('X', 'NO');
      this.toLine();
      return;
    }
    if (this.cause !== undefined) {
      this.reply('NO');
      return;
    }
    this.reply('OK');
    this.values.set('G', 'S');
    this.toBattery('test');
    this.timers.start('test', this.timing.selfTestMs, () => {
      this.values.set('X', this.selfTestResult);
      this.toLine();
    });
  }

  private failureTest(): void {
    if (this.cause !== undefined) {
      this.reply('NO');
      return;
    }
    this.reply('OK');
    this.values.set('G', 'S');
    this.toBattery('failure');
    this.timers.start('failure', this.timing.failureTestMs, () => this.toLine());
  }

  private calibration(): void {
    if (this.cause === 'calibration') {
      this.reply('OK');
      this.toLine();
      return;
    }
    if (this.cause !== undefined || Number(this.values.get('f')) < 100) {
      this.reply('NO');
      return;
    }
    this.reply('OK');
    this.toBattery('calibration');
  }

  private eepromStep(direction: 1 | -1): void {
    const letter = this.lastQuery;
    const choices = letter === undefined ? undefined : this.choices.get(letter);
    if (letter === undefined || choices === undefined) {
      this.reply('NA');
      return;
    }
    this.reply('OK');
    this.timers.start(`eeprom-${letter}`, this.timing.eepromConfirmMs, () => {
      const i = choices.indexOf(this.values.get(letter) ?? '');
      const next = choices[(i + direction + choices.length) % choices.length] ?? '';
      this.values.set(letter, next);
      this.alert('|');
    });
  }

  private toBattery(cause: BatteryCause): void {
    this.cause = cause;
    this.alert('!');
    this.timers.start('repeat', this.timing.onBatteryRepeatMs, () => this.repeatOnBattery());
  }

  private repeatOnBattery(): void {
    if (this.cause === undefined || this.lowBattery) return;
    this.alert('!');
    this.timers.start('repeat', this.timing.onBatteryRepeatMs, () => this.repeatOnBattery());
  }

  private toLine(): void {
    if (this.cause === undefined) return;
    this.cause = this.mains ? undefined : 'mains';
    if (this.cause !== undefined) return;
    this.timers.cancel('repeat');
    this.alert('$');
  }
}

/**
 * Fixed figures and pure formulas of the simulated line-interactive UPS.
 *
 * The numbers are chosen so that the simulated unit reads like the real ones in
 * the Smart-UPS in test/fixtures/nis: a Smart-UPS 1500 class unit (1000 W / 1500 VA, 24 V battery) at
 * about 18 % load shows ~55 min of runtime and a float voltage near 27.2 V, and at half
 * load runs for ~20 min, in line with APC's published runtime charts for that class.
 */

/** Mains systems the simulator knows: 230 V / 50 Hz (EU) or 120 V / 60 Hz (US). */
export type MainsSystem = 230 | 120;

/** The immutable description of one simulated UPS. */
export interface SimConfig {
  /** Model string as published, e.g. `Smart-UPS 1500 (simulated)`. */
  readonly model: string;
  readonly serial: string;
  /** Real-power rating (W): `load_w = load_pct × nominalPowerW / 100`. */
  readonly nominalPowerW: number;
  readonly nominalApparentVa: number;
  /**
   * Usable battery energy (Wh) between full and empty at the discharge rates a UPS sees.
   * Lower than the nameplate (2 × 12 V 17 Ah ≈ 408 Wh for this class) because of the
   * Peukert effect and the end-of-discharge cut-off; 200 Wh reproduces APC's runtime charts.
   */
  readonly batteryCapacityWh: number;
  /** 24 V for a Smart-UPS 1500 class unit (two 12 V blocks, 12 cells). */
  readonly batteryNominalV: number;
  readonly mains: MainsSystem;
  /** Standard deviation (percentage points) of the slow random walk around the load set point. */
  readonly loadDriftPct: number;
  /** Scripted outage, in simulated ms after the start; null when not scripted. */
  readonly failAtMs: number | null;
  readonly restoreAtMs: number | null;
}

/** A named hardware profile (`sim://<profile>`). */
export interface SimProfile {
  readonly model: string;
  readonly nominalPowerW: number;
  readonly nominalApparentVa: number;
  readonly batteryCapacityWh: number;
  readonly batteryNominalV: number;
}

/** Profiles by slug; `sim://` and `sim://default` use `smart_ups_1500`. */
export const SIM_PROFILES: Readonly<Record<string, SimProfile>> = {
  smart_ups_1500: {
    model: 'Smart-UPS 1500 (simulated)',
    nominalPowerW: 1000,
    nominalApparentVa: 1500,
    batteryCapacityWh: 200,
    batteryNominalV: 24,
  },
  // A small desktop unit like the Back-UPS sample in test/fixtures/nis (Back-UPS ES 700G: 405 W, one 12 V 7 Ah block).
  back_ups_700: {
    model: 'Back-UPS 700 (simulated)',
    nominalPowerW: 405,
    nominalApparentVa: 700,
    batteryCapacityWh: 40,
    batteryNominalV: 12,
  },
};

/** Fraction of the load power that reaches the output when inverting from the battery. */
export const INVERTER_EFFICIENCY = 0.88;
/** The inverter's own draw on battery, as a fraction of the rating (15 W for 1000 W). */
export const INVERTER_IDLE_FRACTION = 0.015;
/** Charger speed, percent of capacity per minute: bulk up to 90 %, then absorption. */
export const RECHARGE_BULK_PCT_PER_MIN = 0.5;
export const RECHARGE_ABSORPTION_PCT_PER_MIN = 0.25;
export const RECHARGE_ABSORPTION_FROM_PCT = 90;
/** Low-battery rule: charge below this, or runtime below LOW_RUNTIME_S (APC's DLOWBATT 2 min). */
export const LOW_CHARGE_PCT = 10;
export const LOW_RUNTIME_S = 120;
/** After an automatic or `shutdown.return` turn-off, the output waits for this charge (RETPCT)… */
export const RESTART_CHARGE_PCT = 15;
/** …and for mains to be present this long (DWAKE) before it comes back. */
export const WAKE_DELAY_S = 10;
/** Default grace delay of shutdown.return / shutdown.stayoff (DSHUTD). */
export const SHUTDOWN_DELAY_S = 20;
/** A quick self-test runs on battery this long (APC units take 8–15 s). */
export const QUICK_TEST_MS = 10_000;
/** A quick self-test ending below this charge reports `failed_capacity` (SELFTEST `BT`). */
export const TEST_PASS_MIN_CHARGE_PCT = 40;
/** Runtime calibration needs a full battery and discharges to this charge (docs/protocols/apcsmart.md#actions `D`). */
export const CALIBRATION_MIN_START_PCT = 99.5;
export const CALIBRATION_END_PCT = 25;
/** Power factor of the simulated load (VA = W / PF). */
export const LOAD_POWER_FACTOR = 0.9;
/** Time constant of the load drift's pull back to its set point. */
export const LOAD_DRIFT_TAU_MS = 300_000;
/** Internal temperature: room temperature, heating at full load, and its time constant. */
export const AMBIENT_TEMP_C = 24;
export const FULL_LOAD_HEATING_C = 10;
export const TEMP_TAU_MS = 900_000;
/** Peak of the uniform noise on the mains voltage reading, per mains system. */
export const MAINS_NOISE_V: Readonly<Record<MainsSystem, number>> = { 230: 2.5, 120: 1.5 };
/** Transfer points with sensitivity `high` (the Smart-UPS sample in test/fixtures/nis for 230 V; APC's 120 V defaults). */
export const TRANSFER_POINTS_V: Readonly<Record<MainsSystem, { low: number; high: number }>> = {
  230: { low: 196, high: 253 },
  120: { low: 106, high: 127 },
};

/** Nominal mains frequency: 50 Hz with 230 V, 60 Hz with 120 V. */
export function mainsFrequencyHz(mains: MainsSystem): number {
  return mains === 120 ? 60 : 50;
}

/** Power (W) the battery delivers for a load, inverter losses included. */
export function batteryDrawW(config: SimConfig, loadPct: number): number {
  const loadW = (loadPct * config.nominalPowerW) / 100;
  return loadW / INVERTER_EFFICIENCY + config.nominalPowerW * INVERTER_IDLE_FRACTION;
}

/** How fast the charge falls on battery, in percent per simulated millisecond. */
export function dischargePctPerMs(config: SimConfig, loadPct: number): number {
  return (batteryDrawW(config, loadPct) / config.batteryCapacityWh / 3_600_000) * 100;
}

/** How fast the charger refills, in percent per simulated millisecond (0 when full). */
export function rechargePctPerMs(chargePct: number): number {
  if (chargePct >= 100) return 0;
  const perMin =
    chargePct < RECHARGE_ABSORPTION_FROM_PCT
      ? RECHARGE_BULK_PCT_PER_MIN
      : RECHARGE_ABSORPTION_PCT_PER_MIN;
  return perMin / 60_000;
}

/** Seconds the remaining energy lasts at this load (rises when the load drops). */
export function runtimeSeconds(config: SimConfig, chargePct: number, loadPct: number): number {
  const energyWh = (chargePct / 100) * config.batteryCapacityWh;
  return (energyWh / batteryDrawW(config, loadPct)) * 3600;
}

/**
 * The charge below which the low-battery rule holds at this load: whichever of the
 * charge and runtime limits is reached first.
 */
export function lowBatteryChargePct(config: SimConfig, loadPct: number): number {
  const pctForLowRuntime =
    ((LOW_RUNTIME_S / 3600) * batteryDrawW(config, loadPct) * 100) / config.batteryCapacityWh;
  return Math.max(LOW_CHARGE_PCT, pctForLowRuntime);
}

/**
 * Battery terminal voltage. Lead-acid rests between ≈ 2.0 V/cell (empty) and the float
 * charge of ≈ 2.27 V/cell (full, on mains); on battery it sags with the discharge current.
 */
export function batteryVoltage(
  config: SimConfig,
  chargePct: number,
  loadPct: number,
  onBattery: boolean,
): number {
  const cells = config.batteryNominalV / 2;
  const perCell = 2.0 + (0.27 * chargePct) / 100 - (onBattery ? 0.1 * (loadPct / 100) + 0.05 : 0);
  return cells * perCell;
}

/** The temperature the unit settles at for its current work. */
export function targetTempC(loadPct: number, onBattery: boolean, charging: boolean): number {
  return (
    AMBIENT_TEMP_C +
    FULL_LOAD_HEATING_C * (loadPct / 100) +
    (onBattery ? 3 : 0) +
    (charging ? 1.5 : 0)
  );
}

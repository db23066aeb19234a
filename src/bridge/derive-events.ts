import type { UpsEvent } from '../core/events.ts';
import type { UpsState } from '../core/state.ts';

/**
 * Events from state transitions, for sources without an event log of their own (HID,
 * serial, simulator) or when apcupsd keeps none. Pure: same states in, same events out.
 * Nothing is derived from the first reading: there is no transition to report.
 */
export function deriveEvents(prev: UpsState | undefined, next: UpsState): UpsEvent[] {
  if (!prev) return [];
  const at = next.updated_at;
  const out: UpsEvent[] = [];
  const during = next.test_in_progress === true || prev.test_in_progress === true;
  const push = (event_type: UpsEvent['event_type'], message: string, testMark = false): void => {
    const e: UpsEvent = { event_type, at, message, origin: 'state_change' };
    if (testMark && during) e.during_self_test = true;
    out.push(e);
  };
  const rose = (k: keyof UpsState): boolean => next[k] === true && prev[k] !== true;
  const fell = (k: keyof UpsState): boolean => next[k] === false && prev[k] === true;

  if (rose('comm_lost')) push('comm_lost', 'Communication with the UPS lost');
  if (fell('comm_lost')) push('comm_restored', 'Communication with the UPS restored');
  if (rose('on_battery')) push('power_lost', 'Running on battery', true);
  if (fell('on_battery')) push('power_restored', 'Mains power restored', true);
  if (rose('low_battery')) push('low_battery', 'Battery low');
  if (fell('low_battery')) push('battery_ok', 'Battery no longer low');
  if (rose('replace_battery')) push('replace_battery', 'Battery needs replacement');
  if (rose('overload')) push('overload', 'Output overloaded');
  if (rose('shutting_down')) push('shutdown_initiated', 'Shutdown initiated');
  if (rose('battery_missing')) push('battery_disconnected', 'Battery disconnected');
  if (fell('battery_missing')) push('battery_reattached', 'Battery reattached');
  if (rose('test_in_progress')) push('self_test_started', 'Self-test started');
  if (
    fell('test_in_progress') ||
    (prev.self_test_result !== next.self_test_result && isFinalResult(next))
  ) {
    if (!out.some((e) => e.event_type === 'self_test_completed')) {
      const result = next.self_test_result ?? 'no result reported';
      push('self_test_completed', `Self-test completed: ${result}`);
    }
  }
  return out;
}

function isFinalResult(s: UpsState): boolean {
  const r = s.self_test_result;
  return r !== undefined && r !== 'none' && r !== 'in_progress';
}

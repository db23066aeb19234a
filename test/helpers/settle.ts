/**
 * The one settle helper: lets already-queued work run to completion — promise callbacks
 * and the I/O callbacks they schedule with setImmediate — without waiting for any timer.
 * For code driven by a ManualClock, whose timers never fire on their own: after
 * `clock.advance()`, `await settle()` lets the callbacks it started finish.
 *
 * It never stands in for waiting for an outcome of real I/O or a real child process: for
 * those, wait for the outcome itself (pollUntil in ports.ts, MqttRecording.waitFor).
 */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

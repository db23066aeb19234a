/**
 * The two ways the power policy shuts its host down: a local command (argv, run with
 * execFile: no shell, killed on timeout) or, in the Home Assistant add-on, the Supervisor's
 * `POST /host/shutdown` (developers.home-assistant.io/docs/api/supervisor/endpoints, needs
 * `hassio_api: true` and `hassio_role: manager`, see docs/power-policy.md).
 */
import { execFile } from 'node:child_process';

/** How a host shutdown attempt ended. */
export interface HostRunResult {
  outcome: 'done' | 'failed' | 'timeout';
  /** One line for the event and the log. */
  detail: string;
  /** The command's output (truncated), for the log. */
  stdout?: string;
  stderr?: string;
}

/** Runs a local command; injected so tests use a marker-file script. */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<HostRunResult>;

/** Output kept in the log per stream. */
const MAX_OUTPUT = 4096;

const clip = (text: string): string =>
  text.length > MAX_OUTPUT ? `${text.slice(0, MAX_OUTPUT)}… (${text.length} bytes)` : text;

/** The real runner: execFile without a shell, SIGKILL after `timeoutMs`. */
export const execFileRunner: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ outcome: 'failed', detail: 'no command configured' });
      return;
    }
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        const out = { stdout: clip(String(stdout)), stderr: clip(String(stderr)) };
        if (!err) {
          resolve({ outcome: 'done', detail: `${file} exited with 0`, ...out });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        if (e.killed && e.signal === 'SIGKILL') {
          resolve({
            outcome: 'timeout',
            detail: `${file} did not finish within ${Math.round(timeoutMs / 1000)} s and was killed`,
            ...out,
          });
          return;
        }
        const why =
          typeof e.code === 'number'
            ? `exited with ${e.code}`
            : typeof e.code === 'string'
              ? `could not start (${e.code})`
              : `ended by ${e.signal ?? 'an error'}`;
        resolve({ outcome: 'failed', detail: `${file} ${why}`, ...out });
      },
    );
  });

/** The Supervisor's host shutdown, as the add-on reaches it. */
export interface SupervisorHost {
  shutdown(timeoutMs: number): Promise<HostRunResult>;
}

/** `POST <url>/host/shutdown` with the add-on's token (never logged). */
export class SupervisorClient implements SupervisorHost {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async shutdown(timeoutMs: number): Promise<HostRunResult> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.url}/host/shutdown`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: '{}',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      return {
        outcome: timedOut ? 'timeout' : 'failed',
        detail: timedOut
          ? `the Supervisor did not answer within ${Math.round(timeoutMs / 1000)} s`
          : `cannot reach the Supervisor (${err instanceof Error ? err.message : String(err)})`,
      };
    }
    let body: { result?: unknown; message?: unknown } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch {
      body = undefined;
    }
    if (response.ok && body?.result === 'ok') {
      return { outcome: 'done', detail: 'the Supervisor accepted the host shutdown' };
    }
    const why = typeof body?.message === 'string' ? `"${body.message}"` : `HTTP ${response.status}`;
    const hint =
      response.status === 401 || response.status === 403
        ? ' (the add-on needs hassio_api: true and hassio_role: manager)'
        : '';
    return { outcome: 'failed', detail: `the Supervisor refused the host shutdown: ${why}${hint}` };
  }
}

/** Error codes the project branches on. Never branch on message text. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'SOURCE_URI_INVALID'
  | 'SOURCE_UNSUPPORTED'
  | 'CONNECT_FAILED'
  | 'CONNECT_TIMEOUT'
  | 'READ_TIMEOUT'
  | 'PEER_CLOSED'
  | 'FRAME_TOO_LARGE'
  | 'PROTOCOL_ERROR'
  | 'SERVER_ERROR'
  /** The peer answers, but with placeholders instead of a reading (a daemon starting up). */
  | 'NOT_READY'
  | 'LISTEN_FAILED'
  | 'ABORTED'
  /** NUT `ERR UNKNOWN-UPS`: upsd serves no UPS of that name. */
  | 'UPS_UNKNOWN'
  /** NUT `ERR DATA-STALE` / `DRIVER-NOT-CONNECTED`: the daemon has no current data of the UPS. */
  | 'DATA_STALE'
  /** The server refused the credentials or the user lacks the right (NUT `ACCESS-DENIED`…). */
  | 'ACCESS_DENIED'
  /** The UPS or its driver did not carry out a command (NUT `INSTCMD-FAILED`, tracking). */
  | 'COMMAND_FAILED'
  /** TLS was required and could not be set up. */
  | 'TLS_FAILED';

/** An error with a stable code, a context object for logs, and an optional cause. */
export class Ups2MqttError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Ups2MqttError';
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** Type guard, optionally for one code. */
export function isUps2MqttError(err: unknown, code?: ErrorCode): err is Ups2MqttError {
  return err instanceof Ups2MqttError && (code === undefined || err.code === code);
}

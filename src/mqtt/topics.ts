/** Topic builders and the rules every topic obeys. Pure. */

/** True when `filter` (which may hold `+` and `#`) matches `topic` (MQTT 3.1.1 §4.7). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === '#') return i < t.length || i === t.length;
    if (i >= t.length) return false;
    if (part !== '+' && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A topic we may publish to: non-empty, no wildcards, no NUL, at most 65535 bytes. */
export function isPublishableTopic(topic: string): boolean {
  return (
    topic !== '' &&
    !topic.includes('+') &&
    !topic.includes('#') &&
    !topic.includes(String.fromCharCode(0)) &&
    Buffer.byteLength(topic) <= 65535
  );
}

/**
 * Home Assistant's device-based discovery topic of one UPS (docs/homeassistant.md#discovery-topic-and-payload):
 * `<prefix>/device/ups2mqtt_<ups_id>/config`, the id reduced to the characters HA allows.
 */
export function discoveryTopic(prefix: string, upsId: string): string {
  return `${prefix}/device/ups2mqtt_${upsId.replace(/[^a-zA-Z0-9_-]/g, '_')}/config`;
}

/** Subscription filter for every device discovery config under `prefix`. */
export function discoveryFilter(prefix: string): string {
  return `${prefix}/device/+/config`;
}

/** The UPS id in one of our discovery topics, or undefined for any other topic. */
export function discoveryUpsId(prefix: string, topic: string): string | undefined {
  const head = `${prefix}/device/ups2mqtt_`;
  if (!topic.startsWith(head) || !topic.endsWith('/config')) return undefined;
  const id = topic.slice(head.length, -'/config'.length);
  return /^[a-z0-9_-]+$/.test(id) ? id : undefined;
}

/** Topics of the MQTT contract (docs/mqtt.md). */
export class Topics {
  constructor(readonly base: string) {}

  bridgeState(): string {
    return `${this.base}/bridge/state`;
  }

  availability(upsId: string): string {
    return `${this.base}/${upsId}/availability`;
  }

  state(upsId: string): string {
    return `${this.base}/${upsId}/state`;
  }

  event(upsId: string): string {
    return `${this.base}/${upsId}/event`;
  }

  command(upsId: string, name: string): string {
    return `${this.base}/${upsId}/command/${name}`;
  }

  commandResult(upsId: string, name: string): string {
    return `${this.base}/${upsId}/command/${name}/result`;
  }

  /** Subscription filter for every command of one UPS. */
  commandFilter(upsId: string): string {
    return `${this.base}/${upsId}/command/+`;
  }

  /** The command name of a topic under `commandFilter(upsId)`, or undefined. */
  commandName(upsId: string, topic: string): string | undefined {
    const prefix = `${this.base}/${upsId}/command/`;
    if (!topic.startsWith(prefix)) return undefined;
    const name = topic.slice(prefix.length);
    return name === '' || name.includes('/') ? undefined : name;
  }

  /** The shutdown delay the bridge uses for shutdown commands (retained state). */
  shutdownDelay(upsId: string): string {
    return `${this.base}/${upsId}/shutdown_delay`;
  }

  /** Where Home Assistant's number sets the shutdown delay. */
  shutdownDelaySet(upsId: string): string {
    return `${this.base}/${upsId}/shutdown_delay/set`;
  }

  /** The bridge's own marker topic that ends a scan of retained messages. */
  bridgeSync(): string {
    return `${this.base}/bridge/sync`;
  }

  /** True when `topic` lies under the base topic. */
  isUnderBase(topic: string): boolean {
    return topic.startsWith(`${this.base}/`);
  }
}

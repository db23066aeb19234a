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
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPublishableTopic, Topics, topicMatches } from '../../../src/mqtt/topics.ts';

describe('topics', () => {
  const rows: [string, string, boolean][] = [
    ['ups2mqtt/+/command/+', 'ups2mqtt/rack/command/beeper.mute', true],
    ['ups2mqtt/+/command/+', 'ups2mqtt/rack/command/beeper.mute/result', false],
    ['homeassistant/status', 'homeassistant/status', true],
    ['homeassistant/device/+/config', 'homeassistant/device/ups2mqtt_rack/config', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/+', 'a', false],
    ['#', 'x/y', true],
  ];
  for (const [filter, topic, expected] of rows) {
    it(`${filter} ${expected ? 'matches' : 'does not match'} ${topic}`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }

  it('refuses wildcards and empty topics for publishing', () => {
    assert.equal(isPublishableTopic('ups2mqtt/rack/state'), true);
    assert.equal(isPublishableTopic('ups2mqtt/+/state'), false);
    assert.equal(isPublishableTopic('ups2mqtt/#'), false);
    assert.equal(isPublishableTopic(''), false);
  });

  it('builds the documented topics', () => {
    const t = new Topics('ups2mqtt');
    assert.deepEqual(
      [
        t.bridgeState(),
        t.availability('rack'),
        t.state('rack'),
        t.event('rack'),
        t.command('rack', 'beeper.mute'),
        t.commandResult('rack', 'beeper.mute'),
      ],
      [
        'ups2mqtt/bridge/state',
        'ups2mqtt/rack/availability',
        'ups2mqtt/rack/state',
        'ups2mqtt/rack/event',
        'ups2mqtt/rack/command/beeper.mute',
        'ups2mqtt/rack/command/beeper.mute/result',
      ],
    );
  });
});

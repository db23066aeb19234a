import * as assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { abortWatchCount, unwatchAbort, watchAbort } from '../../../src/util/signals.ts';

describe('watchAbort', () => {
  it('calls every watcher once on abort, and none that was unwatched', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const a = (): void => {
      calls.push('a');
    };
    const b = (): void => {
      calls.push('b');
    };
    const c = (): void => {
      calls.push('c');
    };
    watchAbort(controller.signal, a);
    watchAbort(controller.signal, b);
    watchAbort(controller.signal, c);
    unwatchAbort(controller.signal, b);
    controller.abort();
    controller.abort();
    assert.deepEqual(calls, ['a', 'c']);
    assert.equal(abortWatchCount(controller.signal), 0);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('gives a signal one listener however many requests watch and unwatch it', () => {
    const controller = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const fn = (): void => {};
      watchAbort(controller.signal, fn);
      unwatchAbort(controller.signal, fn);
    }
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    assert.equal(abortWatchCount(controller.signal), 0);
  });

  it('lets a watcher unwatch another one during the abort without skipping the rest', () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const second = (): void => {
      calls.push('second');
    };
    watchAbort(controller.signal, () => {
      calls.push('first');
      unwatchAbort(controller.signal, second);
    });
    watchAbort(controller.signal, second);
    controller.abort();
    assert.deepEqual(calls, ['first', 'second'], 'the watchers of the moment of the abort run');
  });

  it('does nothing for a signal nobody watched', () => {
    const controller = new AbortController();
    unwatchAbort(controller.signal, () => {});
    assert.equal(abortWatchCount(controller.signal), 0);
  });
});

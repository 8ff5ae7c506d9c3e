/** The namespace lock of the POSIX backend: shared holders overlap, exclusive ones are alone. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RwLock } from '../../src/storage/rwlock.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('RwLock', () => {
  it('lets shared holders overlap and keeps exclusive holders alone, preferring writers', async () => {
    const lock = new RwLock();
    const log: string[] = [];
    let inside = 0;
    let maxShared = 0;
    const reader = (id: string) =>
      lock.shared(async () => {
        inside++;
        maxShared = Math.max(maxShared, inside);
        log.push(`${id}+`);
        await tick();
        await tick();
        log.push(`${id}-`);
        inside--;
      });
    const writer = (id: string) =>
      lock.exclusive(async () => {
        assert.equal(inside, 0, 'no shared holder while exclusive');
        inside += 100;
        log.push(`${id}+`);
        await tick();
        log.push(`${id}-`);
        inside -= 100;
      });
    const done = [reader('r1'), reader('r2'), writer('w1'), reader('r3'), writer('w2')];
    await Promise.all(done);
    assert.equal(maxShared, 2);
    // r3 arrived after w1 queued: it must not jump ahead of it.
    assert.ok(log.indexOf('w1-') < log.indexOf('r3+'));
    assert.ok(log.indexOf('r3-') < log.indexOf('w2+'));
  });

  it('releases the lock when the holder throws', async () => {
    const lock = new RwLock();
    await assert.rejects(lock.exclusive(() => Promise.reject(new Error('boom'))));
    await assert.rejects(lock.shared(() => { throw new Error('sync boom'); }));
    assert.equal(await lock.exclusive(() => 42), 42);
  });
});

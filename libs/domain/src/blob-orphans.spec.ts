import { blobKey, orphanedBlobs, referencedBlobs, type ListedBlob } from './blob-orphans';
import type { FileOffered, TaskCreated, TaskExpired } from './events';
import { applyEvent, emptyProjection } from './projection';

const T1 = '11111111-1111-4111-8111-111111111111';
const F1 = 'ffffffff-1111-4111-8111-111111111111';
const blob = (uploader: string, c: string) => ({ uploader, sha256: c.repeat(43), size: 1_000 });
const taskBlob = blob('proxy1.broker', 'a');
const partOne = blob('proxy2.broker', 'b');
const partTwo = blob('proxy2.broker', 'c');
const stray = blob('proxy1.broker', 'd');

function state() {
  const s = emptyProjection();
  const created: TaskCreated = {
    type: 'TaskCreated',
    v: 1,
    taskId: T1,
    from: 'app1.proxy1.broker',
    to: ['app1.proxy2.broker'],
    message: 'jws',
    digest: 'd',
    receivedAt: 1_000,
    expiresAt: 11_000,
    blob: taskBlob,
  };
  const offered: FileOffered = {
    type: 'FileOffered',
    v: 1,
    fileId: F1,
    from: 'app1.proxy2.broker',
    to: ['app1.proxy1.broker'],
    message: 'jws',
    size: 2_000,
    parts: [partOne, partTwo],
    receivedAt: 1_000,
    expiresAt: 90_000,
  };
  applyEvent(s, created, 1);
  applyEvent(s, offered, 2);
  return s;
}

const listed = (b: { uploader: string; sha256: string }, storedAt: number): ListedBlob => ({ uploader: b.uploader, sha256: b.sha256, storedAt });

describe('orphaned blobs', () => {
  it("names what live tasks and files name: a task's body, every part of a file", () => {
    expect([...referencedBlobs(state())].sort()).toEqual([taskBlob, partOne, partTwo].map(blobKey).sort());
  });

  it('are the unnamed blobs stored longer ago than the grace period, and only those', () => {
    const now = 100_000;
    const all = [listed(taskBlob, 0), listed(partOne, 0), listed(stray, now - 61_000), listed(blob('proxy3.broker', 'e'), now - 59_000)];
    expect(orphanedBlobs(all, referencedBlobs(state()), now, 60_000)).toEqual([listed(stray, now - 61_000)]);
  });

  it("are a task's blobs once the task left the views, and the same digest under another uploader", () => {
    const s = state();
    const expired: TaskExpired = { type: 'TaskExpired', v: 1, taskId: T1, expiredAt: 11_000 };
    applyEvent(s, expired, 3);
    const sameDigestElsewhere = listed({ uploader: 'proxy9.broker', sha256: partOne.sha256 }, 0);
    expect(orphanedBlobs([listed(taskBlob, 0), listed(partOne, 0), sameDigestElsewhere], referencedBlobs(s), 100_000, 1_000)).toEqual([
      listed(taskBlob, 0),
      sameDigestElsewhere,
    ]);
  });
});

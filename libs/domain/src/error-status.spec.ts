import type { ErrorKind } from './errors';
import { errorKindOfStatus, HTTP_STATUS_BY_KIND } from './error-status';

describe('the error status table', () => {
  it('gives every kind its own status, so each status reads back as the kind it came from', () => {
    for (const [kind, status] of Object.entries(HTTP_STATUS_BY_KIND)) expect(errorKindOfStatus(status)).toBe(kind as ErrorKind);
    expect(new Set(Object.values(HTTP_STATUS_BY_KIND)).size).toBe(Object.keys(HTTP_STATUS_BY_KIND).length);
  });

  it('names no kind for a status outside the table', () => {
    expect(errorKindOfStatus(200)).toBeUndefined();
    expect(errorKindOfStatus(503)).toBeUndefined();
  });
});

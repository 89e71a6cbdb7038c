import type { Request } from 'express';
import { isWaitingRequest } from './waiting';

const req = (method: string, query: Record<string, string>, accept?: string) => ({ method, query, headers: accept ? { accept } : {} }) as unknown as Request;

describe('isWaitingRequest', () => {
  it('counts long-polls (wait_count or wait_time) and event streams', () => {
    expect(isWaitingRequest(req('GET', { wait_count: '1' }))).toBe(true);
    expect(isWaitingRequest(req('GET', { wait_time: '10s' }))).toBe(true);
    expect(isWaitingRequest(req('GET', {}, 'text/event-stream'))).toBe(true);
  });

  it('does not count a read that answers at once, or a write', () => {
    expect(isWaitingRequest(req('GET', { filter: 'todo' }))).toBe(false);
    expect(isWaitingRequest(req('GET', {}, 'application/json'))).toBe(false);
    expect(isWaitingRequest(req('POST', { wait_time: '10s' }))).toBe(false);
  });
});

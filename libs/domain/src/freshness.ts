/**
 * Freshness as the receiving proxy judges it, from signed fields only: a task's `created` and `ttl`, a result's
 * `created`. The broker's own times (receivedAt, expiresAt) are never trusted for this. What a proxy that keeps
 * no durable state can and cannot detect is in docs/architecture.md ("Freshness").
 */
import { parseDuration } from './duration';

/** How far a receiving proxy lets a sender's clock be off from its own (`MESSAGE_CLOCK_SKEW`), by default. */
export const DEFAULT_MESSAGE_CLOCK_SKEW_MS = 30_000;

/** Why a message is not fresh, or undefined when it is. */
export type Staleness = { reason: string } | undefined;

/** The expiry of a task by its signed fields: `created + ttl` on the sender's clock. */
export function signedExpiry(task: { created: number; ttl: string }): number {
  return task.created + parseDuration(task.ttl, 'ttl');
}

/** A message dated more than the allowed skew into the receiver's future is refused: it would outlive its TTL. */
function fromTheFuture(created: number, now: number, skewMs: number): Staleness {
  return created > now + skewMs ? { reason: `created ${created - now} ms in the future (allowed clock skew ${skewMs} ms)` } : undefined;
}

/**
 * A task is shown while `now < created + ttl + skew` and it was not created more than `skew` ahead of `now`.
 * The skew lets a sender's clock be behind the receiver's by that much without losing short tasks.
 */
export function taskStaleness(task: { created: number; ttl: string }, now: number, skewMs: number): Staleness {
  const expiry = signedExpiry(task);
  if (now >= expiry + skewMs) return { reason: `expired ${now - expiry} ms ago by its signed creation time and ttl` };
  return fromTheFuture(task.created, now, skewMs);
}

/** What remains of a task's signed TTL at `now`, never more than the TTL itself (a sender's clock may run ahead). */
export function remainingTtlMs(task: { created: number; ttl: string }, now: number): number {
  return Math.min(signedExpiry(task) - now, parseDuration(task.ttl, 'ttl'));
}

/** A result has no TTL of its own; one dated beyond the skew into the future is refused (it would win over every later result). */
export function resultStaleness(result: { created: number }, now: number, skewMs: number): Staleness {
  return fromTheFuture(result.created, now, skewMs);
}

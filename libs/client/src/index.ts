/**
 * `@beamline/client`: a TypeScript client for apps of a Beam network (Beamline or Samply.Beam), the
 * counterpart of Samply.Beam's Rust beam-lib. No dependencies: Node 20's `node:http`, `node:https`,
 * `node:net` and `node:crypto` only.
 *
 * @packageDocumentation
 */
export { BeamClient, type StreamOptions } from './client';
export { BeamEventStream, type StreamEndReason } from './event-stream';
export { BeamAbortError, BeamBodyError, BeamError, BeamHttpError, BeamNetworkError } from './errors';
export { SseParser, type SseCommentItem, type SseEvent, type SseEventItem, type SseItem } from './sse-parser';
export { isTransient } from './retry';
export { DEFAULT_FAILURE_STRATEGY, DEFAULT_TTL } from './wire';
export { CLIENT_VERSION } from './version';
export type {
  BodyFormat,
  BodyOptions,
  CallOptions,
  ClientOptions,
  CreateSocketOptions,
  FailureStrategy,
  GetTaskOptions,
  ListSocketsOptions,
  NewResult,
  NewTask,
  PollOptions,
  PostedTask,
  PutOutcome,
  RetryStrategy,
  SocketRequest,
  TaskRequest,
  TaskResult,
  WaitOptions,
  WorkStatus,
} from './types';

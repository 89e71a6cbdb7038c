/**
 * `@beamline/client`: a TypeScript client for apps of a Beam network (Beamline or Samply.Beam), the
 * counterpart of Samply.Beam's Rust beam-lib. No dependencies: Node 20's `node:http`, `node:https`,
 * `node:net`, `node:crypto`, `node:fs` and `node:stream` only.
 *
 * @packageDocumentation
 */
export { BeamClient } from './client';
export { BeamFileDownload } from './file-download';
export type { FileSource } from './file-upload';
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
  DownloadFileOptions,
  FailureStrategy,
  FileInfo,
  GetTaskOptions,
  ListFilesOptions,
  ListSocketsOptions,
  NewResult,
  NewTask,
  PollOptions,
  PostedTask,
  PutOutcome,
  RetryStrategy,
  SendFileOptions,
  SentFile,
  SocketRequest,
  StreamFilesOptions,
  StreamOptions,
  TaskRequest,
  TaskResult,
  WaitOptions,
  WorkStatus,
} from './types';

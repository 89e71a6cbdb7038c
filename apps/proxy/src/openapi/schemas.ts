/**
 * The shapes of the app-facing API as OpenAPI schemas, for the document at /v1/openapi.json only. They describe;
 * they do not validate: requests are parsed by the domain's zod parsers (docs/decisions/0006), whose rules
 * (id formats, ttl units, depth limits) these descriptions name without repeating.
 */
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';

/** Any JSON value, `null` included (OpenAPI 3.0 has no "any" or "null" type: one of each kind, one nullable). */
const ANY_JSON: ApiPropertyOptions = {
  oneOf: [{ type: 'object', nullable: true }, { type: 'array', items: {} }, { type: 'string' }, { type: 'number' }, { type: 'boolean' }],
};
const APP_IDS: ApiPropertyOptions = { type: [String], minItems: 1, example: ['app2.proxy2.broker'] };

export class RetryStrategy {
  @ApiProperty({ type: 'integer', minimum: 0, example: 1000 })
  backoff_millisecs!: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 5 })
  max_tries!: number;
}

export class RetryFailureStrategy {
  @ApiProperty({ type: RetryStrategy })
  retry!: RetryStrategy;
}

const FAILURE_STRATEGY: ApiPropertyOptions = {
  description: 'Stored and returned, not acted on.',
  oneOf: [{ type: 'string', enum: ['discard'] }, { $ref: '#/components/schemas/RetryFailureStrategy' }],
};

/** A task as an app submits it (`POST /v1/tasks`). */
export class NewTask {
  @ApiProperty({ format: 'uuid', description: "A UUID; the caller's id is kept." })
  id!: string;

  @ApiProperty({ description: 'The calling app (`<label>.<ProxyId>`); anything else is 401 `from_mismatch`.', example: 'app1.proxy1.broker' })
  from!: string;

  @ApiProperty({ ...APP_IDS, description: 'Distinct AppIds (or ProxyIds), at most MAX_RECIPIENTS (default 1000).' })
  to!: string[];

  @ApiProperty({ description: 'Encrypted end to end; may be empty.' })
  body!: string;

  @ApiProperty(FAILURE_STRATEGY)
  failure_strategy!: unknown;

  @ApiProperty({
    oneOf: [{ type: 'string', example: '60s' }, { type: 'number' }],
    description: "With unit (`ms`, `s`, `m`, `h`, `d`; decimals allowed) or bare seconds; > 0 and ≤ the broker's MAX_TTL.",
  })
  ttl!: string | number;

  @ApiPropertyOptional({ ...ANY_JSON, description: 'Any JSON value, at most 127 levels deep; the broker can read it.' })
  metadata?: unknown;
}

/** A task as an app reads it: `ttl` is the time remaining, in whole seconds with unit. */
export class Task extends NewTask {
  @ApiProperty({ type: 'string', example: '57s', description: 'Time remaining, e.g. `57s`.' })
  declare ttl: string;

  @ApiProperty({ description: 'The plaintext, or `<encrypted>` for a caller that is not a recipient.' })
  declare body: string;
}

export const RESULT_STATUSES = ['claimed', 'tempfailed', 'permfailed', 'succeeded'] as const;

/** A result, as written (`PUT`) and as read. */
export class TaskResult {
  @ApiProperty({ description: "The answering app; must be the caller and the path's `app`.", example: 'app2.proxy2.broker' })
  from!: string;

  @ApiProperty({ ...APP_IDS, example: ['app1.proxy1.broker'] })
  to!: string[];

  @ApiProperty({ format: 'uuid', description: "The task's id; must equal the path's `id`." })
  task!: string;

  @ApiProperty({ enum: RESULT_STATUSES })
  status!: string;

  @ApiPropertyOptional({ description: 'Required for every status except `claimed`.' })
  body?: string;

  @ApiPropertyOptional(ANY_JSON)
  metadata?: unknown;
}

/** A socket request, as listed by `GET /v1/sockets`. */
export class SocketRequest {
  @ApiProperty({ example: 'app1.proxy1.broker' })
  from!: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 1 })
  to!: string[];

  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: '57s' })
  ttl!: string;

  @ApiProperty(ANY_JSON)
  metadata!: unknown;
}

/** A file offered to the caller, as listed by `GET /v1/files` (Beamline's own addition). */
export class FileInfo {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'app1.proxy1.broker' })
  from!: string;

  @ApiProperty({ type: [String], minItems: 1 })
  to!: string[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Bytes.' })
  size!: number;

  @ApiProperty(ANY_JSON)
  metadata!: unknown;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}

/** The answer to `POST /v1/files`. */
export class SentFile {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;
}

/** Every error but 424: `{error, message}`, plus `quota` or `store` for those two refusals. */
export class ApiError {
  @ApiProperty({ description: 'A stable code, e.g. `invalid_input`, `task_exists`, `too_many_waiting`.', example: 'invalid_input' })
  error!: string;

  @ApiProperty({ description: 'What was wrong, naming the field.' })
  message!: string;

  @ApiPropertyOptional({ enum: ['write_rate', 'live_tasks', 'live_bytes'], description: 'With `quota_exceeded`.' })
  quota?: string;

  @ApiPropertyOptional({ description: 'With `storage_full`.' })
  store?: string;
}

export class ControlState {
  @ApiProperty()
  connected!: boolean;

  @ApiPropertyOptional({ type: 'string', format: 'date-time', description: 'While connected.' })
  since?: string;

  @ApiProperty({ type: 'integer' })
  reconnects!: number;
}

export class PkiState {
  @ApiProperty({ type: 'integer' })
  revoked_certificates!: number;

  @ApiProperty({ type: 'integer' })
  held_events!: number;

  @ApiProperty({ type: 'integer' })
  dropped_events!: number;
}

export class ProxyHealth {
  @ApiProperty({ enum: ['healthy', 'starting'] })
  summary!: string;

  @ApiProperty({ type: 'string', nullable: true, description: "The serial of this proxy's certificate, once found." })
  certificate!: string | null;

  @ApiProperty({ type: ControlState })
  control!: ControlState;

  @ApiProperty({ type: PkiState })
  pki!: PkiState;
}

export const SCHEMA_CLASSES = [RetryFailureStrategy, NewTask, Task, TaskResult, SocketRequest, FileInfo, SentFile, ApiError, ProxyHealth];

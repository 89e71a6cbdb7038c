/**
 * The OpenAPI description of each app-facing route, one decorator per route, so the controllers stay readable.
 * Every status listed here is one the route really answers: test/openapi-contract.spec.ts provokes each one.
 */
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiHeader, ApiOperation, ApiParam, ApiQuery, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ApiBrokeredRoute, ApiErrorResponse, ApiEventStream, ApiJsonResponse, ApiListing, ApiLongPoll } from './responses';
import { FileInfo, NewTask, ProxyHealth, SentFile, SocketRequest, Task, TaskResult } from './schemas';

const ID_PARAM = ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' }, description: "The task's id." });

export const ApiCreateTask = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Create a task', description: 'Seals the body for the recipients and signs the task. Any content type is accepted.' }),
    ApiBody({ schema: { $ref: getSchemaPath(NewTask) } }),
    ApiResponse({ status: 201, description: 'Created (or an identical retry). `Location: /v1/tasks/<id>`, empty body.' }),
    ApiErrorResponse(400, 'Malformed JSON, wrong types, bad id, ttl or recipients, naming the field.'),
    ApiErrorResponse(409, '`task_exists`: another task under a live id.'),
    ApiErrorResponse(413, '`payload_too_large`: the request exceeds 72 MiB (answered before `100 Continue` when the app sends `Expect: 100-continue`).'),
    ApiJsonResponse(424, 'Recipients whose proxy has no valid certificate (task not created): their ProxyIds.', { type: 'array', items: { type: 'string' } }),
    ApiBrokeredRoute(),
  );

export const ApiListTasks = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'List tasks', description: 'Match = `from` matches OR `to` contains. `filter=todo`: unanswered tasks for the caller.' }),
    ApiQuery({ name: 'from', required: false, schema: { type: 'string' }, description: 'Must be the caller.' }),
    ApiQuery({ name: 'to', required: false, schema: { type: 'string' }, description: 'Must be the caller.' }),
    ApiQuery({ name: 'filter', required: false, schema: { type: 'string', enum: ['todo'] } }),
    ApiLongPoll(),
    ApiEventStream('new_task'),
    ApiListing(Task, 'new_task'),
    ApiErrorResponse(400, '`missing_filter` (none of `from`, `to`, `filter`), a `filter` other than `todo`, or bad wait parameters.'),
    ApiErrorResponse(403, '`from` or `to` other than the caller.'),
    ApiBrokeredRoute(),
  );

export const ApiGetTask = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Read one task', description: 'Creator or recipient only. With `wait_time` it waits for the task to appear.' }),
    ID_PARAM,
    ApiLongPoll({ waitCountMax: 1 }),
    ApiJsonResponse(200, 'The task.', { $ref: getSchemaPath(Task) }),
    ApiErrorResponse(400, '`wait_count` other than absent or 1, or a bad `wait_time`.'),
    ApiErrorResponse(404, 'Unknown, expired or not visible to the caller.'),
    ApiBrokeredRoute(),
  );

export const ApiPutResult = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: "Create or replace the caller's result on a task" }),
    ID_PARAM,
    ApiParam({ name: 'app_id', schema: { type: 'string' }, description: "The answering app; must equal the body's `from`." }),
    ApiBody({ schema: { $ref: getSchemaPath(TaskResult) } }),
    ApiResponse({ status: 201, description: 'A new result.' }),
    ApiResponse({ status: 204, description: "The worker's result was replaced (or a late `claimed` kept a final one)." }),
    ApiErrorResponse(400, 'Path id ≠ body `task`, path app ≠ body `from`, or a malformed result.'),
    ApiErrorResponse(403, "The author is not among the task's recipients."),
    ApiErrorResponse(404, 'Unknown or expired task.'),
    ApiErrorResponse(413, '`payload_too_large`: the request exceeds 72 MiB (answered before `100 Continue` when the app sends `Expect: 100-continue`).'),
    ApiBrokeredRoute(),
  );

export const ApiListResults = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: "A task's results",
      description: 'Creator only; the results whose `to` contains the caller. `claimed` does not count towards `wait_count`.',
    }),
    ID_PARAM,
    ApiLongPoll(),
    ApiEventStream('new_result'),
    ApiListing(TaskResult, 'new_result'),
    ApiErrorResponse(400, 'Bad wait parameters.'),
    ApiErrorResponse(403, 'The caller did not create the task.'),
    ApiErrorResponse(404, 'Unknown or expired task.'),
    ApiBrokeredRoute(),
  );

export const ApiHealth = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: "The proxy's health", description: 'No authentication.' }),
    ApiJsonResponse(200, "Ready: the proxy's certificate is in the broker's directory.", { $ref: getSchemaPath(ProxyHealth) }),
    ApiJsonResponse(503, '`starting`: not ready yet.', { $ref: getSchemaPath(ProxyHealth) }),
  );

export const ApiListSockets = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Socket requests addressed to the caller',
      description: 'No parameters: at once (or, with SOCKET_LIST_WAIT=beam, waits for one).',
    }),
    ApiLongPoll(),
    ApiListing(SocketRequest),
    ApiErrorResponse(400, 'Bad wait parameters.'),
    ApiBrokeredRoute(),
  );

const UPGRADE = ApiHeader({ name: 'Upgrade', required: true, schema: { type: 'string', enum: ['tcp'] }, description: 'With `Connection: Upgrade`.' });
const UPGRADE_REQUIRED = ApiErrorResponse(426, 'No `Upgrade: tcp`.');

export const ApiOpenSocket = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Open a direct socket to an app',
      description: 'Answers 101 once the recipient connected; the connection is then the (end-to-end encrypted) stream.',
    }),
    ApiParam({ name: 'app_id', schema: { type: 'string' }, description: 'The recipient AppId.' }),
    UPGRADE,
    ApiHeader({ name: 'metadata', required: false, description: 'JSON, shown to the recipient.' }),
    ApiResponse({ status: 101, description: 'Switching Protocols: the recipient connected.' }),
    ApiErrorResponse(400, '`metadata` is not JSON, or a bad recipient.'),
    ApiErrorResponse(410, '`socket_expired`: nobody connected within SOCKET_TTL.'),
    UPGRADE_REQUIRED,
    ApiBrokeredRoute(),
  );

export const ApiConnectSocket = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Connect to a socket request addressed to the caller' }),
    ApiParam({ name: 'socket_id', schema: { type: 'string', format: 'uuid' }, description: "The socket request's id." }),
    UPGRADE,
    ApiResponse({ status: 101, description: 'Switching Protocols: the connection is the stream.' }),
    ApiErrorResponse(404, 'Unknown, expired, already connected or foreign socket request.'),
    UPGRADE_REQUIRED,
    ApiBrokeredRoute({ timeout: false }),
  );

const FILE_ID = ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' }, description: "The file's id." });
const FILE_BYTES = {
  'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
};
const FILE_HEADERS = {
  'Beam-Metadata': { description: "The sender's metadata (JSON).", schema: { type: 'string' } },
  'Accept-Ranges': { schema: { type: 'string', enum: ['bytes'] } },
};

export const ApiSendFile = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Send a file, store and forward (Beamline addition)',
      description: 'The body streams in and is sealed as it arrives; the recipients need not be online. Any content type is accepted.',
    }),
    ApiQuery({ name: 'to', required: true, schema: { type: 'string' }, description: 'Recipient AppIds, comma-separated.' }),
    ApiQuery({ name: 'ttl', required: false, schema: { type: 'string', example: '1d' }, description: 'Lifetime (default 1d, at most MAX_TTL).' }),
    ApiHeader({ name: 'Beam-Metadata', required: false, description: 'JSON shown to the recipients (not encrypted).' }),
    ApiConsumes('application/octet-stream'),
    ApiBody({ schema: { type: 'string', format: 'binary' } }),
    ApiJsonResponse(201, 'Stored and offered. `Location: /v1/files/<id>`.', { $ref: getSchemaPath(SentFile) }),
    ApiErrorResponse(400, 'Bad `to`, `ttl` or `Beam-Metadata`, naming it.'),
    ApiErrorResponse(413, '`file_too_large`: over MAX_FILE_SIZE (answered before `100 Continue` when the size is announced).'),
    ApiJsonResponse(424, 'Recipients whose proxy has no valid certificate (nothing stored): their ProxyIds.', { type: 'array', items: { type: 'string' } }),
    ApiBrokeredRoute(),
  );

export const ApiListFiles = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'The files offered to the caller (Beamline addition)' }),
    ApiLongPoll(),
    ApiEventStream('new_file'),
    ApiListing(FileInfo, 'new_file'),
    ApiErrorResponse(400, 'Bad wait parameters.'),
    ApiBrokeredRoute(),
  );

export const ApiDownloadFile = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({
      summary: 'Download a file (Beamline addition)',
      description: 'Each chunk is checked and opened on the way out. A download that must stop is cut short: fewer bytes than `Content-Length`.',
    }),
    FILE_ID,
    ApiHeader({ name: 'Range', required: false, description: '`bytes=<first byte>-` resumes a download.' }),
    ApiResponse({ status: 200, description: 'The whole file.', content: FILE_BYTES, headers: FILE_HEADERS }),
    ApiResponse({ status: 206, description: 'From the first byte `Range` asked for (`Content-Range`).', content: FILE_BYTES, headers: FILE_HEADERS }),
    ApiErrorResponse(400, 'A bad id, or a `Range` other than `bytes=<n>-`.'),
    ApiErrorResponse(404, 'Not a recipient, expired, dropped, or no such byte.'),
    ApiBrokeredRoute(),
  );

export const ApiDropFile = (): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: 'Drop a file for the caller (Beamline addition)', description: 'Once every recipient dropped it, its parts are deleted.' }),
    FILE_ID,
    ApiResponse({ status: 204, description: 'Dropped.' }),
    ApiErrorResponse(400, 'A bad id.'),
    ApiErrorResponse(404, 'Not a recipient, expired or already dropped.'),
    ApiBrokeredRoute(),
  );

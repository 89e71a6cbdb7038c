/** Response and parameter decorators shared by the app-facing routes' OpenAPI descriptions. */
import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiQuery, ApiResponse, ApiSecurity, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiError } from './schemas';

type SchemaClass = new () => unknown;

/** The name of the ApiKey security scheme in the document. */
export const API_KEY_SCHEME = 'ApiKey';

/** The JSON error body `{error, message}` under `status`, with when it happens. */
export function ApiErrorResponse(status: number, description: string): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, content: { 'application/json': { schema: { $ref: getSchemaPath(ApiError) } } } });
}

/** A JSON answer whose body is `schema` (a class's schema, or an array of one). */
export function ApiJsonResponse(status: number, description: string, schema: Record<string, unknown>): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, content: { 'application/json': { schema } } });
}

export function arrayOf(cls: SchemaClass): Record<string, unknown> {
  return { type: 'array', items: { $ref: getSchemaPath(cls) } };
}

/**
 * Every route behind the ApiKey guard: a missing or wrong key, and the broker unreachable or (`timeout`, all but
 * a socket connect, whose upgrade to the broker has no deadline of its own) too slow.
 */
export function ApiBrokeredRoute(opts: { timeout: boolean } = { timeout: true }): MethodDecorator & ClassDecorator {
  const answers = [
    ApiErrorResponse(401, 'Missing or wrong API key (with `WWW-Authenticate: ApiKey`), or `from` is not the caller.'),
    ApiErrorResponse(502, 'The broker could not be reached or could not serve, after retries for BROKER_RETRY_BUDGET.'),
  ];
  if (opts.timeout) answers.push(ApiErrorResponse(504, '`broker_timeout`: the broker did not answer within BROKER_TIMEOUT beyond the wait.'));
  return applyDecorators(...answers);
}

/** `wait_count` and `wait_time` (docs/api.md, "Long polling"), and 429 once the app holds too many waits. */
export function ApiLongPoll(opts: { waitCountMax?: number } = {}): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'wait_count',
      required: false,
      schema: { type: 'integer', minimum: 0, maximum: opts.waitCountMax ?? 1_000_000 },
      description: 'Block until this many items match.',
    }),
    ApiQuery({
      name: 'wait_time',
      required: false,
      schema: { type: 'string', example: '10s' },
      description: 'Block at most this long (units as `ttl`; a bare number is seconds), capped at MAX_WAIT.',
    }),
    ApiErrorResponse(429, '`too_many_waiting`: the app already holds MAX_WAITING_PER_APP long-polls or streams (with `Retry-After`).'),
  );
}

/** `Accept: text/event-stream` turns a listing into Server-Sent Events; `Last-Event-ID` resumes one. */
export function ApiEventStream(event: string): MethodDecorator {
  return applyDecorators(
    ApiHeader({ name: 'Accept', required: false, description: `\`text/event-stream\` for Server-Sent Events (\`event: ${event}\`)` }),
    ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume an event stream after this event id.' }),
  );
}

/** A listing: 200 when the wait condition is met (or there is none), 206 when the time ran out first. */
export function ApiListing(item: SchemaClass, sse?: string): MethodDecorator {
  const content: Record<string, { schema: Record<string, unknown> }> = { 'application/json': { schema: arrayOf(item) } };
  if (sse) content['text/event-stream'] = { schema: { type: 'string', description: `\`event: ${sse}\` lines, each \`data:\` one JSON item` } };
  return applyDecorators(
    ApiResponse({ status: 200, description: 'Everything that matches; the wait condition was met.', content }),
    ApiResponse({
      status: 206,
      description: 'Everything that matches; the wait time ran out first.',
      content: { 'application/json': content['application/json'] },
    }),
  );
}

/** A controller of routes behind the ApiKey guard (`Authorization: ApiKey <AppId> <key>`). */
export function ApiAppRoutes(tag: string): ClassDecorator {
  return applyDecorators(ApiTags(tag), ApiSecurity(API_KEY_SCHEME));
}

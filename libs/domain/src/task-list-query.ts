import { parseBeamId } from './beam-id';
import { Forbidden, InvalidInput } from './errors';
import type { TaskQuery } from './projection';

/** The raw `from`, `to` and `filter` parameters of `GET /v1/tasks`. */
export interface TaskListParams {
  from?: string;
  to?: string;
  filter?: string;
}

/**
 * Validates a task listing for `caller` (docs/api.md): at least one of from/to/filter; from/to may only name the
 * caller (403 otherwise); `filter` may only be `todo`, whose `to` defaults to the caller.
 */
export function parseTaskListQuery(params: TaskListParams, caller: string): TaskQuery {
  const { from, to, filter } = params;
  if (from === undefined && to === undefined && filter === undefined) {
    throw new InvalidInput('query: give at least one of from, to or filter', 'missing_filter');
  }
  if (filter !== undefined && filter !== 'todo') throw new InvalidInput(`filter: unknown filter ${JSON.stringify(filter)} (only "todo" exists)`);
  for (const [field, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (value !== undefined && parseBeamId(value, field) !== caller)
      throw new Forbidden(`${field}: you may only list tasks ${field === 'from' ? 'from' : 'to'} yourself (${caller})`);
  }
  return { from, to, todoFor: filter === 'todo' ? caller : undefined };
}

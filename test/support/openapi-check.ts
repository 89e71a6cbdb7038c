/**
 * Checks of an OpenAPI 3.0 document beyond swagger-parser's validation against the official schema (which the
 * contract test runs too): path templates against their parameters, every `$ref` resolving, every schema
 * compiling; and answers against it (status documented, content type documented, JSON body valid against its
 * schema, with ajv).
 */
import Ajv, { type ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'openapi';

/** Every structural problem of `doc` as an OpenAPI 3.0 document; empty when there is none. */
export function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string): void => void (ok || problems.push(what));
  need(typeof doc.openapi === 'string' && /^3\.\d+\.\d+$/.test(doc.openapi), 'openapi: a 3.x.y version string');
  const info = doc.info as Json | undefined;
  need(typeof info?.title === 'string' && typeof info?.version === 'string', 'info: title and version');
  need(isObject(doc.paths), 'paths: an object');
  const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Json;
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    need(path.startsWith('/'), `${path}: starts with /`);
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method] as Json;
      const where = `${method.toUpperCase()} ${path}`;
      const responses = (op.responses ?? {}) as Record<string, Json>;
      need(Object.keys(responses).length > 0, `${where}: responses`);
      for (const [status, response] of Object.entries(responses)) {
        need(/^([1-5]\d\d|[1-5]XX|default)$/.test(status), `${where}: response key ${status}`);
        need(typeof response.description === 'string', `${where} ${status}: description`);
      }
      const params = ((op.parameters ?? []) as Json[]).concat((item.parameters ?? []) as Json[]);
      for (const p of params)
        need(['query', 'header', 'path', 'cookie'].includes(p.in as string) && typeof p.name === 'string', `${where}: parameter ${String(p.name)}`);
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g))
        need(
          params.some((p) => p.in === 'path' && p.name === name && p.required === true),
          `${where}: required path parameter ${name}`,
        );
      for (const p of params.filter((p) => p.in === 'path'))
        need(path.includes(`{${String(p.name)}}`), `${where}: path parameter ${String(p.name)} not in the path`);
      if (typeof op.operationId === 'string') {
        need(!operationIds.has(op.operationId), `${where}: operationId ${op.operationId} used twice`);
        operationIds.add(op.operationId);
      }
      for (const requirement of (op.security ?? doc.security ?? []) as Json[])
        for (const scheme of Object.keys(requirement)) need(scheme in schemes, `${where}: security scheme ${scheme} defined`);
    }
  }
  for (const ref of refsIn(doc)) need(resolvePointer(doc, ref) !== undefined, `$ref ${ref} resolves`);
  for (const name of Object.keys(((doc.components as Json | undefined)?.schemas ?? {}) as Json)) {
    try {
      schemaValidator(doc)({ $ref: `#/components/schemas/${name}` });
    } catch (err) {
      problems.push(`schema ${name} compiles: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Why `answer` does not match what `doc` says `METHOD template` answers with its status; empty when it does. */
export function answerProblems(doc: Json, method: string, template: string, answer: { status: number; contentType?: string; body: string }): string[] {
  const where = `${method} ${template} ${answer.status}`;
  const op = ((doc.paths as Record<string, Json>)[template]?.[method.toLowerCase()] ?? undefined) as Json | undefined;
  if (!op) return [`${method} ${template}: not documented`];
  const response = (op.responses as Record<string, Json>)[String(answer.status)];
  if (!response) return [`${where}: status not documented`];
  const content = response.content as Record<string, Json> | undefined;
  if (!content) return answer.body === '' ? [] : [`${where}: documented without a body, got ${answer.body.slice(0, 80)}`];
  const type = (answer.contentType ?? '').split(';')[0].trim();
  if (!(type in content)) return [`${where}: content type ${type || '(none)'} not documented (${Object.keys(content).join(', ')})`];
  if (type !== 'application/json') return [];
  const validate = schemaValidator(doc)(content[type].schema as Json);
  return validate(JSON.parse(answer.body)) ? [] : [`${where}: body ${answer.body.slice(0, 200)} ${JSON.stringify(validate.errors)}`];
}

/** Every documented `METHOD path status`. */
export function documentedAnswers(doc: Json): string[] {
  const all: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>))
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k)))
      for (const status of Object.keys((item[method] as Json).responses as Json)) all.push(`${method.toUpperCase()} ${path} ${status}`);
  return all.sort();
}

const validators = new WeakMap<Json, (schema: Json) => ValidateFunction>();

/** Compiles schemas whose `#/components/...` references point into `doc` (OpenAPI 3.0's `nullable` is ajv's own). */
function schemaValidator(doc: Json): (schema: Json) => ValidateFunction {
  let make = validators.get(doc);
  if (!make) {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ components: doc.components }, DOC_ID);
    make = (schema) => ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', `"${DOC_ID}#/components/`)) as Json);
    validators.set(doc, make);
  }
  return make;
}

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refsIn(v)));
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), doc);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The app-facing API's OpenAPI 3 document, generated from the proxy's controllers and the schema classes, served
 * without authentication at `/v1/openapi.json`, with Swagger UI at `/docs` (its assets come from
 * swagger-ui-dist, installed with @nestjs/swagger, so the page works offline).
 */
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { beamlineVersion } from '@beamline/http';
import { API_KEY_SCHEME } from './responses';
import { SCHEMA_CLASSES } from './schemas';

export const OPENAPI_JSON_PATH = 'v1/openapi.json';
export const DOCS_PATH = 'docs';

/** The document for `app` (the proxy's Nest application, before it listens). */
export function proxyApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Beamline app API (Samply.Beam v1)')
    .setDescription(
      'What an app can do through its site proxy: tasks, results, long-polls, Server-Sent Events and direct ' +
        'sockets. Every error is JSON `{"error","message"}`, except 424 (an array of ProxyIds). Also possible on ' +
        "writes: 507 `storage_full`/`quota_exceeded`, and 429 `quota_exceeded` from the broker's quotas; 500 is a bug. " +
        'The full contract is docs/api.md.',
    )
    .setVersion(version)
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The value `ApiKey <AppId> <key>`, e.g. `ApiKey app1.proxy1.broker App1Secret`.' },
      API_KEY_SCHEME,
    )
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: SCHEMA_CLASSES, autoTagControllers: false });
}

/** Mounts `/v1/openapi.json` and `/docs` on `app`; call before it listens (Nest's 404 handler comes last). */
export function serveApiDocs(app: INestApplication): void {
  const document = proxyApiDocument(app, beamlineVersion());
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH, raw: ['json'], customSiteTitle: 'Beamline app API' });
}

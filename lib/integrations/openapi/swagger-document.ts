import { INestApplicationContext, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TASKFLOW_OPTIONS } from '../../constants';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import { packageVersion } from '../package-version';
import { buildOpenApiDocument, mountedRoutes } from './openapi-document';
import { TASKFLOW_ADMIN_CONTROLLERS } from './openapi.controller';
import { toOpenApi30Schema } from './openapi-30';
import { JsonSchema } from './openapi-schemas';

/** The parts of an OpenAPI document (3.0 or 3.1) the merge reads and writes; @nestjs/swagger's OpenAPIObject is one. */
export interface OpenApiDocumentLike {
  openapi: string;
  paths?: object;
  components?: object;
  tags?: object[];
}

export interface AddTaskflowToDocumentOptions {
  /** As the `ignoreGlobalPrefix` given to SwaggerModule.createDocument: the admin paths then lack the app's global prefix. */
  ignoreGlobalPrefix?: boolean;
}

/** What the admin API's names become in the host's document, so they cannot clash with the app's own. */
const SCHEMA_PREFIX = 'Taskflow';
const SECURITY = { bearer: 'taskflowBearer', cookie: 'taskflowCookie' } as const;
const tagName = (tag: string) => `taskflow ${tag}`;

type Bag = Record<string, unknown>;
type Operation = Bag & { tags?: string[]; operationId?: string; security?: Record<string, unknown>[] };

/**
 * Adds the admin API, typed, to a document of the host app (typically the result of
 * `SwaggerModule.createDocument(app, config)`): every route TaskAdminModule mounts, with the
 * same parameters and body schemas as `{path}/openapi.json`. The operations Swagger's scan
 * made of the admin controllers (untyped: their bodies are interfaces, not DTO classes) are
 * replaced. Schemas are prefixed `Taskflow`, security schemes `taskflowBearer`/`taskflowCookie`,
 * tags `taskflow …` and operation ids `taskflow_…`, so none clashes with the app's; for a 3.0
 * document the schemas are written as 3.0. Changes `document` in place and returns it.
 */
export function addTaskflowToDocument<D extends OpenApiDocumentLike>(
  app: INestApplicationContext,
  document: D,
  options: AddTaskflowToDocumentOptions = {},
): D {
  const { controllers, settings } = adminSurfaceOf(app);
  const prefix = options.ignoreGlobalPrefix ? '' : globalPrefix(app);
  const own = renamed(buildOpenApiDocument(prefix + settings.path, mountedRoutes(controllers), { title: settings.title, version: packageVersion() }));
  const legacy = /^3\.0\./.test(document.openapi);

  const paths = ((document as Bag).paths ??= {}) as Record<string, Bag>;
  for (const [path, operations] of Object.entries(own.paths as Record<string, Bag>))
    paths[path] = { ...paths[path], ...(legacy ? (convertSchemasIn(operations) as Bag) : operations) };

  const components = ((document as Bag).components ??= {}) as Record<string, Bag>;
  const ownComponents = own.components as Record<string, Bag>;
  const schemas = ownComponents.schemas as Record<string, JsonSchema>;
  components.schemas = {
    ...components.schemas,
    ...(legacy ? Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, toOpenApi30Schema(v)])) : schemas),
  };
  components.securitySchemes = { ...components.securitySchemes, ...ownComponents.securitySchemes };

  const tags = ((document as Bag).tags ??= []) as { name: string }[];
  for (const tag of own.tags as { name: string }[]) if (!tags.some((t) => t.name === tag.name)) tags.push(tag);
  return document;
}

function adminSurfaceOf(app: INestApplicationContext): { controllers: Type[]; settings: ResolvedTaskOptions } {
  // Through ModuleRef: the app's own get() of a missing token ends the process under NestFactory's default abortOnError.
  const modules = app.get(ModuleRef);
  try {
    return {
      controllers: modules.get<Type[]>(TASKFLOW_ADMIN_CONTROLLERS, { strict: false }),
      settings: modules.get<ResolvedTaskOptions>(TASKFLOW_OPTIONS, { strict: false }),
    };
  } catch (error) {
    throw new Error('addTaskflowToDocument: the app mounts no admin API (import TaskAdminModule; TaskManagerModule has no routes)', { cause: error });
  }
}

/** The app's global prefix as Swagger writes it in paths: '' or '/api'. Read where @nestjs/swagger reads it. */
function globalPrefix(app: INestApplicationContext): string {
  const config = (app as unknown as { config?: { getGlobalPrefix?: () => string } }).config;
  const prefix = String(config?.getGlobalPrefix?.() ?? '').replace(/^\/+|\/+$/g, '');
  return prefix ? `/${prefix}` : '';
}

/** The package's document with its names prefixed (schemas and their `$ref`s, security schemes, tags, operation ids). */
function renamed(document: Record<string, unknown>): Record<string, unknown> {
  const refs = JSON.parse(JSON.stringify(document).replace(/"#\/components\/schemas\/([^"]+)"/g, `"#/components/schemas/${SCHEMA_PREFIX}$1"`)) as Bag;
  const components = refs.components as Record<string, Bag>;
  components.schemas = Object.fromEntries(Object.entries(components.schemas).map(([name, schema]) => [SCHEMA_PREFIX + name, schema]));
  components.securitySchemes = Object.fromEntries(
    Object.entries(components.securitySchemes).map(([name, scheme]) => [SECURITY[name as keyof typeof SECURITY] ?? name, scheme]),
  );
  for (const operations of Object.values(refs.paths as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(operations)) {
      operation.operationId = `taskflow_${operation.operationId}`;
      operation.tags = operation.tags?.map(tagName);
      operation.security = operation.security?.map((requirement) =>
        Object.fromEntries(Object.entries(requirement).map(([name, scopes]) => [SECURITY[name as keyof typeof SECURITY] ?? name, scopes])),
      );
    }
  }
  refs.tags = (refs.tags as { name: string }[]).map((tag) => ({ ...tag, name: tagName(tag.name) }));
  return refs;
}

/** Operations (or anything holding them) with every `schema` in them, of parameters, bodies and headers, written as OpenAPI 3.0. */
function convertSchemasIn(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convertSchemasIn);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Bag).map(([key, v]) => [key, key === 'schema' ? toOpenApi30Schema(v as JsonSchema) : convertSchemasIn(v)]),
  );
}

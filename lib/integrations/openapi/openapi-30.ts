import { JsonSchema } from './openapi-schemas';

/**
 * A schema of the 3.1 document (JSON Schema 2020-12) as OpenAPI 3.0 writes it, for a host
 * document of version 3.0 (@nestjs/swagger's default): `type: [T, 'null']` and a `oneOf`
 * with `{type: 'null'}` become `nullable: true`, `const` a one-value `enum`, and a `$ref`
 * with siblings (which 3.0 ignores) an `allOf`.
 */
export function toOpenApi30Schema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') out[key] = mapValues(value as Record<string, JsonSchema>, toOpenApi30Schema);
    else if (key === 'items' || key === 'not' || (key === 'additionalProperties' && isSchema(value)))
      out[key] = toOpenApi30Schema(value as JsonSchema);
    else if (key === 'allOf' || key === 'oneOf' || key === 'anyOf') out[key] = (value as JsonSchema[]).map(toOpenApi30Schema);
    else if (key === 'const') out.enum = [value];
    else out[key] = value;
  }
  if (Array.isArray(out.type)) {
    const types = (out.type as string[]).filter((t) => t !== 'null');
    if (types.length < out.type.length) out.nullable = true;
    if (types.length === 1) out.type = types[0];
    else {
      delete out.type;
      out.anyOf = types.map((type) => ({ type }));
    }
  }
  for (const key of ['oneOf', 'anyOf'] as const) {
    const members = out[key] as JsonSchema[] | undefined;
    if (!members?.some(isNullType)) continue;
    const rest = members.filter((m) => !isNullType(m));
    delete out[key];
    out.nullable = true;
    if (rest.length === 1) Object.assign(out, rest[0].$ref === undefined ? rest[0] : { allOf: [rest[0]] });
    else out[key] = rest;
  }
  if (out.$ref !== undefined && Object.keys(out).length > 1) {
    const { $ref, ...siblings } = out;
    return { allOf: [{ $ref }], ...siblings };
  }
  return out;
}

const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null;
const isNullType = (schema: JsonSchema) => schema.type === 'null' && Object.keys(schema).length === 1;

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';

/** The HTTP platforms the admin surface is tested on. */
export type HttpPlatform = 'express' | 'fastify';

/** The `trust proxy` settings both platforms take: a hop count, an address list, or everything. */
export type TrustProxy = boolean | number | string | string[];

const ALL: readonly HttpPlatform[] = ['express', 'fastify'];

/**
 * The platforms the suites run on: both, unless `TASKFLOW_HTTP_PLATFORMS` names some
 * (`express`, `fastify`, comma-separated), to run one half while working on it.
 */
export const HTTP_PLATFORMS: readonly HttpPlatform[] = (() => {
  const wanted = (process.env.TASKFLOW_HTTP_PLATFORMS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (wanted.length === 0) return ALL;
  const unknown = wanted.filter((name) => !ALL.includes(name as HttpPlatform));
  if (unknown.length > 0) throw new Error(`TASKFLOW_HTTP_PLATFORMS: unknown platform(s) ${unknown.join(', ')}; use ${ALL.join(', ')}`);
  return ALL.filter((name) => wanted.includes(name));
})();

/**
 * Declares a suite once and runs it on every platform, as `describe.each` would: one
 * `describe` per platform, so the suite's `beforeAll` builds one app per platform.
 */
export function describeEachPlatform(name: string, suite: (platform: HttpPlatform) => void): void {
  for (const platform of HTTP_PLATFORMS) describe(`${name} [${platform}]`, () => suite(platform));
}

export interface PlatformSetup {
  /** The platform's own trust-proxy setting (express `app.set('trust proxy')`, Fastify's `trustProxy`). */
  trustProxy?: TrustProxy;
  /** Parse query strings with `qs` (express's `query parser: 'extended'`; Fastify's `querystringParser`). */
  extendedQuery?: boolean;
  /** Fastify's `bodyLimit` in bytes (its default is 1 MiB; express's JSON and form parsers take 100 kB). */
  fastifyBodyLimit?: number;
}

/** A Nest app of `moduleRef` on `platform`, configured as `setup` says, not yet initialised. */
export function createPlatformApp(
  moduleRef: TestingModule,
  platform: HttpPlatform,
  setup: PlatformSetup = {},
  options: NestApplicationOptions = {},
): INestApplication {
  if (platform === 'fastify') {
    // Loaded only here, so an express-only run never needs the Fastify packages.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FastifyAdapter } = require('@nestjs/platform-fastify') as typeof import('@nestjs/platform-fastify');
    const adapter = new FastifyAdapter({
      ...(setup.trustProxy !== undefined ? { trustProxy: setup.trustProxy } : {}),
      ...(setup.fastifyBodyLimit !== undefined ? { bodyLimit: setup.fastifyBodyLimit } : {}),
      ...(setup.extendedQuery ? { routerOptions: { querystringParser: extendedQueryParser() } } : {}),
    });
    return moduleRef.createNestApplication(adapter, options);
  }
  const app = moduleRef.createNestApplication(options);
  const express = app.getHttpAdapter().getInstance() as { set(key: string, value: unknown): void };
  if (setup.trustProxy !== undefined) express.set('trust proxy', setup.trustProxy);
  if (setup.extendedQuery) express.set('query parser', 'extended');
  return app;
}

/** express's extended query parser (`qs`, a dependency of express), for Fastify. */
function extendedQueryParser(): (text: string) => Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const qs = require('qs') as { parse(text: string): Record<string, unknown> };
  return (text) => qs.parse(text);
}

/**
 * A Nest app of `moduleRef` on `platform`, initialised and ready for supertest on its
 * server without listening (Fastify answers only once `ready()`: `init()` alone does not make it).
 */
export async function startPlatformApp(
  moduleRef: TestingModule,
  platform: HttpPlatform,
  setup: PlatformSetup = {},
  options: NestApplicationOptions = {},
): Promise<INestApplication> {
  const app = createPlatformApp(moduleRef, platform, setup, options);
  await app.init();
  if (platform === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return app;
}

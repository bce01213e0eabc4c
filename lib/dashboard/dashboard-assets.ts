import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

/**
 * The dashboard's static files (lib/dashboard/assets, copied next to the compiled
 * code by `npm run build`): read and compressed once per process, served under
 * content-hashed names (`app.<hash>.js`) so browsers may cache them for a year.
 *
 * The client script, `assets/app.js`, is built from the TypeScript modules of
 * lib/dashboard/client by esbuild (scripts/build-dashboard.mjs: one strict-mode IIFE,
 * ES2020, no framework) at `npm run build`, and before the tests by jest's globalSetup.
 * Nothing is bundled at run time.
 */
export interface DashboardAsset {
  /** Hashed file name, e.g. `app.3f9a1c2b7d.js`. */
  file: string;
  contentType: string;
  body: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  etag: string;
}

export interface DashboardBundle {
  /** index.html with `{{name}}` placeholders. */
  template: string;
  /** By hashed file name. */
  assets: Map<string, DashboardAsset>;
  /** Hashed names of the entry files. */
  files: { css: string; js: string; theme: string; icon: string };
}

export const DASHBOARD_ASSETS_DIR = join(__dirname, 'assets');

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

const cache = new Map<string, DashboardBundle>();

/** The bundle of `dir` (default: the package's own assets), built on first use and kept. */
export function dashboardAssets(dir: string = DASHBOARD_ASSETS_DIR): DashboardBundle {
  let bundle = cache.get(dir);
  if (!bundle) {
    bundle = build(dir);
    cache.set(dir, bundle);
  }
  return bundle;
}

function build(dir: string): DashboardBundle {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      `nestjs-taskflow: the dashboard's files are missing from ${dir}. ` +
        'They are copied there by the package build (npm run build); reinstall the package or rebuild it.',
    );
  }
  if (!existsSync(join(dir, 'app.js'))) {
    throw new Error(
      `nestjs-taskflow: the dashboard's script (app.js) is missing from ${dir}. ` +
        'It is bundled by the package build (npm run build, or node scripts/build-dashboard.mjs in a checkout).',
    );
  }
  const read = (name: string) => readFileSync(join(dir, name));
  const assets = new Map<string, DashboardAsset>();
  const add = (base: string, ext: string, body: Buffer): string => {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const file = `${base}.${hash}.${ext}`;
    assets.set(file, {
      file,
      contentType: TYPES[ext],
      body,
      gzip: gzipSync(body, { level: 9 }),
      brotli: brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }),
      etag: `"${hash}"`,
    });
    return file;
  };
  return {
    template: read('index.html').toString('utf8'),
    assets,
    files: {
      css: add('app', 'css', read('app.css')),
      js: add('app', 'js', read('app.js')),
      theme: add('theme', 'js', read('theme.js')),
      icon: add('favicon', 'svg', read('favicon.svg')),
    },
  };
}

/** The encoding to send for an Accept-Encoding header: br, gzip or none. */
export function pickEncoding(header: string | string[] | undefined): 'br' | 'gzip' | null {
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  const accepts = (name: string) =>
    text.split(',').some((part) => {
      const [token, ...params] = part.trim().split(';');
      if (token.trim() !== name) return false;
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return !q || Number(q.slice(2)) > 0;
    });
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return null;
}

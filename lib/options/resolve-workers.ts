import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import type { ResourceLimits } from 'node:worker_threads';
import { InvalidOptionError } from '../errors/invalid-option.error';

/** The `workers` option with its defaults applied. */
export interface ResolvedWorkers {
  /** Absolute path of the compiled file that exports the worker module. */
  file: string;
  /** Name of the export of `file` that is the Nest module. */
  exportName: string;
  size: number;
  resourceLimits: ResourceLimits | undefined;
}

const LIMIT_KEYS = new Set(['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb']);

export function resolveWorkers(input: unknown): ResolvedWorkers | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'object' || Array.isArray(input))
    throw new InvalidOptionError('workers', 'an object { module, size?, resourceLimits? }', input);
  const { module, size, resourceLimits, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined)
    throw new InvalidOptionError(`workers.${unknown}`, 'nothing: the known keys are module, size and resourceLimits', rest[unknown]);
  const hash = typeof module === 'string' ? module.lastIndexOf('#') : -1;
  const file = hash > 0 ? (module as string).slice(0, hash) : '';
  const exportName = hash > 0 ? (module as string).slice(hash + 1) : '';
  if (!isAbsolute(file) || !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new InvalidOptionError(
      'workers.module',
      '"<absolute path of a compiled file>#<export name>", e.g. path.join(__dirname, "app.module.js") + "#AppModule"',
      module,
    );
  }
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 1)) {
    throw new InvalidOptionError('workers.size', 'an integer of 1 or more', size);
  }
  if (resourceLimits !== undefined) {
    const ok =
      typeof resourceLimits === 'object' &&
      resourceLimits !== null &&
      Object.entries(resourceLimits).every(([k, v]) => LIMIT_KEYS.has(k) && typeof v === 'number' && Number.isFinite(v) && v > 0);
    if (!ok)
      throw new InvalidOptionError('workers.resourceLimits', `an object of positive numbers among ${[...LIMIT_KEYS].join(', ')}`, resourceLimits);
  }
  return {
    file,
    exportName,
    size: size ?? Math.max(1, availableParallelism() - 1),
    resourceLimits: resourceLimits as ResourceLimits | undefined,
  };
}

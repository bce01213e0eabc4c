/**
 * Why `value` would not cross a thread intact, or null. Structured clone throws on functions,
 * symbols and promises, and silently turns a class instance into a plain object (its methods
 * gone), so both are refused; its built-in types (Date, RegExp, Map, Set, buffers, errors) pass.
 */
export function cloneProblem(value: unknown, path: string): string | null {
  return problem(value, path, new Set());
}

const CLONEABLE = [Date, RegExp, ArrayBuffer, DataView, Error, Boolean, Number, String];

function problem(value: unknown, path: string, seen: Set<object>): string | null {
  if (value === null) return null;
  const type = typeof value;
  if (type === 'function') return `${path} is a function`;
  if (type === 'symbol') return `${path} is a symbol`;
  if (type !== 'object') return null;
  const object = value as object;
  // Structured clone keeps cycles and shared references: a value seen before is fine.
  if (seen.has(object)) return null;
  seen.add(object);
  if (ArrayBuffer.isView(object) || CLONEABLE.some((type) => object instanceof type)) return null;
  if (object instanceof Map) {
    let i = 0;
    for (const [k, v] of object) {
      const p = problem(k, `${path}.keys[${i}]`, seen) ?? problem(v, `${path}.get(${describeKey(k)})`, seen);
      if (p) return p;
      i++;
    }
    return null;
  }
  if (object instanceof Set) {
    let i = 0;
    for (const v of object) {
      const p = problem(v, `${path}.values[${i++}]`, seen);
      if (p) return p;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(object);
  if (!Array.isArray(object) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${object.constructor?.name || 'non-plain object'} (a class instance arrives as a plain object without its methods)`;
  }
  const entries = Array.isArray(object)
    ? object.map((v, i) => [`${path}[${i}]`, v] as const)
    : Object.entries(object).map(([k, v]) => [`${path}.${k}`, v] as const);
  for (const [p, v] of entries) {
    const found = problem(v, p, seen);
    if (found) return found;
  }
  return null;
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}

/**
 * view-delta: the difference between two JSON values (two cluster views), small enough to record
 * ten times a second, and the patch that applies it. patch(prev, diff(prev, next)) deep-equals
 * next for any JSON values (objects, arrays, strings, numbers, booleans, null); an object field
 * whose value is `undefined` counts as absent, as it does in JSON. Pure: no I/O.
 *
 * A Delta is one of (the shapes are part of the recording format, docs/recording.md):
 *   { s: value }                      replace the whole value with `value`
 *   { o: { key: Change, ... }, d?: [key, ...] }
 *                                     an object: delete these fields (`d`), change those
 *   { a: [[i, Change], ...], n: len, h?: k }
 *                                     an array: drop the first k items (`h`, when the array
 *                                     moved along, as a window of samples does), cut or extend
 *                                     to `n` items, then change item i
 * A Change (a field's or an item's) is a Delta, or, when the new value is not a plain object
 * (a number, string, boolean, null or array), that value itself: the short form of { s: value }.
 * An item past the old end, or a new field, always comes as a replacement.
 * diff returns null when the values are equal.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Delta =
  | { s: unknown }
  | { o: Record<string, Change>; d?: string[] }
  | { a: [number, Change][]; n: number; h?: number };

/** MAX_SHIFT: the longest move along an array that diff looks for. */
const MAX_SHIFT = 64;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** deepEqual: JSON equality, with object fields holding `undefined` counted as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let na = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    na++;
    if (!Object.hasOwn(bo, k) || !deepEqual(ao[k], bo[k])) return false;
  }
  let nb = 0;
  for (const k in bo) if (bo[k] !== undefined) nb++;
  return na === nb;
}

/** diff: the Delta that turns `prev` into `next`, or null when they are equal. */
export function diff(prev: unknown, next: unknown): Delta | null {
  if (deepEqual(prev, next)) return null;
  return structural(prev, next) ?? { s: next };
}

/**
 * Change: what an object field or array item becomes: a Delta, or, for a value that is not a
 * plain object (a number, string, boolean, null or array), the value itself (the short form of
 * { s: value }).
 */
export type Change = Delta | Exclude<Json, Record<string, Json>>;

/** replacement: the Change that replaces a value by `next`. */
const replacement = (next: unknown): Change => (isObject(next) ? { s: next } : (next as Change));

/** change: how a field or item goes from `prev` to `next` (undefined when equal). */
function change(prev: unknown, next: unknown): Change | undefined {
  if (deepEqual(prev, next)) return undefined;
  return structural(prev, next) ?? replacement(next);
}

/** structural: the object or array Delta from `prev` to `next`, or null if they are not both. */
function structural(prev: unknown, next: unknown): Delta | null {
  if (isObject(prev) && isObject(next)) {
    const o: Record<string, Change> = {};
    const d: string[] = [];
    for (const k in prev) {
      if (prev[k] !== undefined && (!Object.hasOwn(next, k) || next[k] === undefined)) d.push(k);
    }
    for (const k in next) {
      const v = next[k];
      if (v === undefined) continue;
      const sub =
        Object.hasOwn(prev, k) && prev[k] !== undefined ? change(prev[k], v) : replacement(v);
      if (sub !== undefined) o[k] = sub;
    }
    return d.length > 0 ? { o, d } : { o };
  }
  if (Array.isArray(prev) && Array.isArray(next)) {
    const h = shiftOf(prev, next);
    const base = h > 0 ? prev.slice(h) : prev;
    const a: [number, Change][] = [];
    for (let i = 0; i < next.length; i++) {
      if (i >= base.length) a.push([i, replacement(next[i])]);
      else {
        const sub = change(base[i], next[i]);
        if (sub !== undefined) a.push([i, sub]);
      }
    }
    return h > 0 ? { a, n: next.length, h } : { a, n: next.length };
  }
  return null;
}

/**
 * shiftOf: k > 0 when `next` begins with `prev` less its first k items (the array moved along
 * by k), else 0.
 */
function shiftOf(prev: unknown[], next: unknown[]): number {
  if (prev.length < 2 || next.length === 0 || deepEqual(prev[0], next[0])) return 0;
  const max = Math.min(MAX_SHIFT, prev.length - 1);
  for (let k = 1; k <= max; k++) {
    if (!deepEqual(prev[k], next[0])) continue;
    const overlap = Math.min(prev.length - k, next.length);
    let same = true;
    for (let i = 1; i < overlap && same; i++) same = deepEqual(prev[k + i], next[i]);
    if (same) return k;
  }
  return 0;
}

/** DeltaError: a Delta that does not fit the value it is applied to (damage, not data). */
export class DeltaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeltaError';
  }
}

/**
 * patch applies `delta` (from diff) to `prev` and returns the new value; `prev` is not changed
 * (unchanged parts are shared with it). A null delta returns `prev`. A malformed delta throws
 * DeltaError.
 */
export function patch(prev: unknown, delta: Delta | null): unknown {
  if (delta === null) return prev;
  if (!isObject(delta)) throw new DeltaError('a delta must be an object');
  if ('s' in delta) return delta.s;
  if ('o' in delta) {
    if (!isObject(prev)) throw new DeltaError('an object delta applied to a non-object');
    if (!isObject(delta.o)) throw new DeltaError("an object delta's 'o' must be an object");
    const out: Record<string, unknown> = { ...prev };
    if (delta.d !== undefined) {
      if (!Array.isArray(delta.d)) throw new DeltaError("an object delta's 'd' must be a list");
      for (const k of delta.d) delete out[String(k)];
    }
    for (const k of Object.keys(delta.o)) {
      if (k === '__proto__') throw new DeltaError("an object delta names the field '__proto__'");
      out[k] = applyChange(out[k], delta.o[k]);
    }
    return out;
  }
  if ('a' in delta) {
    if (!Array.isArray(prev)) throw new DeltaError('an array delta applied to a non-array');
    const { a, n, h } = delta;
    if (!Array.isArray(a) || !Number.isSafeInteger(n) || n < 0)
      throw new DeltaError('an array delta needs a list and a length');
    if (h !== undefined && (!Number.isSafeInteger(h) || h < 0 || h > prev.length))
      throw new DeltaError(`an array delta moves along by ${h} of ${prev.length}`);
    if (n > prev.length + a.length) throw new DeltaError(`an array delta grows to ${n} items`);
    const out = prev.slice(h ?? 0, (h ?? 0) + n);
    while (out.length < n) out.push(undefined);
    for (const item of a) {
      if (!Array.isArray(item) || !Number.isSafeInteger(item[0]) || item[0] < 0 || item[0] >= n)
        throw new DeltaError('an array delta names an item outside the array');
      out[item[0]] = applyChange(out[item[0]], item[1]);
    }
    return out;
  }
  throw new DeltaError('a delta must have s, o or a');
}

/** applyChange: a field or item changed by a Change (a Delta, or the value itself). */
function applyChange(prev: unknown, c: unknown): unknown {
  return isObject(c) ? patch(prev, c as Delta) : c;
}

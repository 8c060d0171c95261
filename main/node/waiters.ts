/** Outcome is how a wait ends: with a value, or with an error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** done is the outcome that resolves a waiter with `value`. */
export function done<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

/** failed is the outcome that rejects a waiter with `error`. */
export function failed<T = never>(error: Error): Outcome<T> {
  return { ok: false, error };
}

/**
 * Decide says what becomes of one waiter, from its key and the data it was registered with: an
 * outcome settles it, undefined leaves it waiting.
 */
export type Decide<K, T, D> = (key: K, data: D) => Outcome<T> | undefined;

interface Waiter<K, T, D> {
  readonly key: K;
  readonly data: D;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** next: the waiter that came after this one on the same key. */
  next: Waiter<K, T, D> | undefined;
}

/**
 * Waiters is a registry of callers waiting for something the node learns later (a write applied,
 * a read index reached, a change committed, leadership moved, a snapshot written). Each caller
 * holds a promise; the node settles it through the registry by key or by a decision over all of
 * them, or fails them all at once when it stops, or the caller's timer rejects it with the
 * registry's timeout error. Whichever comes first wins: a settled waiter leaves no entry and no
 * timer behind.
 *
 * Several waiters may wait on one key. Ordering: settle() settles a key's waiters in the order
 * they came; settleWhere() and failAll() visit keys in the order their first waiter came (a key
 * whose waiters were all settled goes to the back when a new one comes), and each key's waiters in
 * the order they came. Promises are resolved in that order.
 */
export class Waiters<K extends number | string, T, D = undefined> {
  /** heads: the first waiter of each key; the others hang from it through `next`. */
  private readonly heads = new Map<K, Waiter<K, T, D>>();
  private count = 0;

  /**
   * @param timedOut the error a waiter on `key` registered with `data` is rejected with when
   *   `ms` went by without it being settled.
   */
  constructor(private readonly timedOut: (key: K, data: D, ms: number) => Error) {}

  /** size: how many callers are waiting. */
  get size(): number {
    return this.count;
  }

  /** has says whether anyone waits on `key`. */
  has(key: K): boolean {
    return this.heads.has(key);
  }

  /** data: what the first waiter on `key` was registered with, or undefined if none waits. */
  data(key: K): D | undefined {
    return this.heads.get(key)?.data;
  }

  /**
   * wait registers a caller waiting on `key`, with `data` for the decisions and the timeout error.
   * After `timeoutMs` (Infinity: never) it is rejected with the registry's timeout error.
   */
  wait(key: K, timeoutMs: number, data: D): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<K, T, D> = { key, data, resolve, reject, timer: undefined, next: undefined };
      if (timeoutMs !== Infinity) {
        w.timer = setTimeout(() => {
          w.timer = undefined;
          this.unlink(w);
          reject(this.timedOut(key, data, timeoutMs));
        }, timeoutMs);
      }
      const head = this.heads.get(key);
      if (head === undefined) {
        this.heads.set(key, w);
      } else {
        let last = head;
        while (last.next !== undefined) last = last.next;
        last.next = w;
      }
      this.count++;
    });
  }

  /**
   * settle ends the waits on `key` with `outcome`, or with what `outcome` decides for each of
   * them (one it decides undefined for goes on waiting). Returns how many were settled.
   */
  settle(key: K, outcome: Outcome<T> | Decide<K, T, D>): number {
    let w = this.heads.get(key);
    if (w === undefined) return 0;
    let n = 0;
    while (w !== undefined) {
      const next: Waiter<K, T, D> | undefined = w.next;
      const o = typeof outcome === 'function' ? outcome(key, w.data) : outcome;
      if (o !== undefined) {
        this.finish(w, o);
        n++;
      }
      w = next;
    }
    return n;
  }

  /** settleWhere offers every waiter to `decide` and settles those it decides an outcome for. */
  settleWhere(decide: Decide<K, T, D>): number {
    let n = 0;
    // Deleting a visited key or replacing its head does not disturb the iteration.
    for (const head of this.heads.values()) {
      for (let w: Waiter<K, T, D> | undefined = head; w !== undefined;) {
        const next: Waiter<K, T, D> | undefined = w.next;
        const o = decide(w.key, w.data);
        if (o !== undefined) {
          this.finish(w, o);
          n++;
        }
        w = next;
      }
    }
    return n;
  }

  /** failAll rejects every waiter with `error` (the node stopped, or can no longer tell). */
  failAll(error: Error): number {
    return this.settleWhere(() => failed(error));
  }

  private finish(w: Waiter<K, T, D>, o: Outcome<T>): void {
    if (w.timer !== undefined) {
      clearTimeout(w.timer);
      w.timer = undefined;
    }
    this.unlink(w);
    if (o.ok) w.resolve(o.value);
    else w.reject(o.error);
  }

  /** unlink takes `w` out of its key's chain (and the key out of the map once it has none). */
  private unlink(w: Waiter<K, T, D>): void {
    const head = this.heads.get(w.key);
    if (head === undefined) return;
    if (head === w) {
      if (w.next === undefined) this.heads.delete(w.key);
      else this.heads.set(w.key, w.next);
    } else {
      let p = head;
      while (p.next !== undefined && p.next !== w) p = p.next;
      if (p.next !== w) return;
      p.next = w.next;
    }
    w.next = undefined;
    this.count--;
  }
}

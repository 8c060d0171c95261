/**
 * The virtual clock's queue: what happens next in a simulated cluster (a message arriving, a timer
 * firing) is the earliest item by virtual time, and among items due at the same time the one
 * created first (its sequence number), so a run never depends on anything but its inputs.
 */

/** MinHeap orders events by time, then by the order they were created. */
export class MinHeap<T extends { at: number; seq: number }> {
  private a: T[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): T | undefined {
    return this.a[0];
  }
  push(x: T): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(a[p]!, a[i]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.a = [];
  }
  /** items: every item, in no particular order (a copy). */
  items(): T[] {
    return this.a.slice();
  }
  /**
   * remove takes out the first item (in no particular order) for which pred holds and returns it.
   * The order in which the rest come out is unchanged: it depends only on (at, seq).
   */
  remove(pred: (x: T) => boolean): T | undefined {
    const i = this.a.findIndex(pred);
    if (i < 0) return undefined;
    const [x] = this.a.splice(i, 1);
    const rest = this.a;
    this.a = [];
    for (const y of rest) this.push(y);
    return x;
  }
}

/** less: x comes before y (earlier, or as early and created first). */
export function less(x: { at: number; seq: number }, y: { at: number; seq: number }): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

/**
 * PartialFrameBudget bounds the bytes that connections together hold in frames not yet complete:
 * a peer that announces a large frame and sends it slowly (or never finishes it) holds its bytes
 * until the frame is whole, and many such peers could otherwise take all of the process's memory.
 *
 * Each connection reports what it holds after every read (hold). When the total exceeds the
 * limit, the holder with the most bytes is evicted — told to close, and forgotten at once — and
 * then the next largest, until the total is within the limit again. Eviction happens inside the
 * hold() call that went over, before it returns; a holder evicted by its own report sees that in
 * the return value. The budget knows nothing of sockets, so one budget can serve several ports.
 */

/** BudgetHolder is a connection whose partial frames count against a budget. */
export interface BudgetHolder {
  /** evictForBudget closes the connection; `held` bytes are what it held, `limit` the budget. */
  evictForBudget(held: number, limit: number): void;
}

export class PartialFrameBudget {
  private readonly held = new Map<BudgetHolder, number>();
  private total = 0;
  /** evictions: holders evicted since the budget was made. */
  evictions = 0;

  /** limitBytes: the most bytes all holders may hold together. */
  constructor(readonly limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new RangeError(`a partial-frame budget must be a byte count, got ${limitBytes}`);
    }
  }

  /** totalBytes: what the holders hold now. */
  get totalBytes(): number {
    return this.total;
  }

  /**
   * hold records that `holder` now holds `bytes` in partial frames and evicts the largest holders
   * while the total is over the limit. It returns false if `holder` itself was evicted.
   */
  hold(holder: BudgetHolder, bytes: number): boolean {
    this.total += bytes - (this.held.get(holder) ?? 0);
    if (bytes > 0) this.held.set(holder, bytes);
    else this.held.delete(holder);
    let self = true;
    while (this.total > this.limitBytes) {
      let largest: BudgetHolder | undefined;
      let most = -1;
      for (const [h, n] of this.held) {
        if (n > most) {
          most = n;
          largest = h;
        }
      }
      if (largest === undefined) break;
      this.release(largest);
      this.evictions += 1;
      if (largest === holder) self = false;
      largest.evictForBudget(most, this.limitBytes);
    }
    return self;
  }

  /** release forgets a holder (it closed): its bytes no longer count. */
  release(holder: BudgetHolder): void {
    const n = this.held.get(holder);
    if (n === undefined) return;
    this.held.delete(holder);
    this.total -= n;
  }
}

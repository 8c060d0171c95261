/**
 * frame-budget bounds the memory one process holds in frames that have not fully arrived. Every
 * framed port of a process shares one FrameBudget; each FrameDecoder holding bytes of an
 * incomplete frame has an account in it. A frame's bytes count from the moment they arrive until
 * the frame is complete and handed over (or the connection is gone).
 *
 * Ordering: when an arrival takes the total above the limit, accounts are evicted, largest first,
 * until the total is within the limit again. Accounts of connections that have not proven who they
 * are (a client, a connection still in its handshake or waiting for its token) go first; a trusted
 * account (an authenticated peer or admin session) is evicted only when no untrusted account holds
 * anything, so a flood of strangers cannot push the cluster's own peers or the supervisor's admin
 * link out of the budget. Eviction happens inside the hold() call that went
 * over, before it returns: the evicted account's bytes are subtracted, its `evict` callback runs
 * (its decoder fails and drops what it held; its owner closes the connection), and the eviction
 * is counted. The account that went over may itself be the one evicted. So an honest sender that
 * is slow is only closed while the process is over its budget and nobody holds more than it.
 */

/** DEFAULT_FRAME_BUDGET_BYTES: 256 MiB, four of the largest peer frames. */
export const DEFAULT_FRAME_BUDGET_BYTES = 256 * 1024 * 1024;

/** FrameBudgetError: a decoder was evicted to bring its process back within the budget. */
export class FrameBudgetError extends Error {
  constructor(
    readonly held: number,
    readonly limit: number,
  ) {
    super(
      `closed to keep incomplete frames within the process budget of ${limit} bytes: ` +
        `this connection held ${held} bytes of an incomplete frame, the most of any`,
    );
    this.name = 'FrameBudgetError';
  }
}

/** FrameBudgetStats: the budget and what it has done, for a node's status. */
export interface FrameBudgetStats {
  limitBytes: number;
  /** heldBytes: bytes of incomplete frames held now, over every connection; peakBytes: the most ever. */
  heldBytes: number;
  peakBytes: number;
  /** holders: connections holding part of a frame now. */
  holders: number;
  /** evictions: connections closed to stay within the budget; evictedBytes: what they held. */
  evictions: number;
  evictedBytes: number;
}

/** FrameBudget is one process's budget for bytes of incomplete frames. */
export class FrameBudget {
  private held = 0;
  private peak = 0;
  private evictions = 0;
  private evictedBytes = 0;
  private evicting = false;
  private readonly holders = new Set<BudgetAccount>();

  constructor(readonly limitBytes: number = DEFAULT_FRAME_BUDGET_BYTES) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes <= 0) {
      throw new RangeError(`frame budget must be a positive number of bytes, got ${limitBytes}`);
    }
  }

  /** account opens an untrusted account; `evict` is called if the budget takes its bytes back. */
  account(evict: (e: FrameBudgetError) => void): BudgetAccount {
    return new BudgetAccount(this, evict);
  }

  stats(): FrameBudgetStats {
    return {
      limitBytes: this.limitBytes,
      heldBytes: this.held,
      peakBytes: this.peak,
      holders: this.holders.size,
      evictions: this.evictions,
      evictedBytes: this.evictedBytes,
    };
  }

  /** set records that `acc` now holds `bytes` (called by BudgetAccount only). */
  set(acc: BudgetAccount, before: number, bytes: number): void {
    this.held += bytes - before;
    if (bytes > 0) this.holders.add(acc);
    else this.holders.delete(acc);
    if (this.held > this.peak) this.peak = this.held;
    if (this.held > this.limitBytes && !this.evicting) this.evictLargest();
  }

  private evictLargest(): void {
    this.evicting = true;
    try {
      while (this.held > this.limitBytes && this.holders.size > 0) {
        const victim = this.largest(false) ?? this.largest(true)!;
        const held = victim.held;
        this.evictions += 1;
        this.evictedBytes += held;
        victim.revoke();
        victim.evict(new FrameBudgetError(held, this.limitBytes));
      }
    } finally {
      this.evicting = false;
    }
  }

  /** largest: the holder with the most bytes among the trusted or the untrusted ones. */
  private largest(trusted: boolean): BudgetAccount | undefined {
    let found: BudgetAccount | undefined;
    for (const a of this.holders) {
      if (a.trusted === trusted && (found === undefined || a.held > found.held)) found = a;
    }
    return found;
  }
}

/** BudgetAccount is one decoder's share of a FrameBudget. */
export class BudgetAccount {
  private bytes = 0;
  private closed = false;
  /** trusted: the connection proved who it is; it is evicted only after every untrusted one. */
  trusted = false;

  constructor(
    private readonly budget: FrameBudget,
    readonly evict: (e: FrameBudgetError) => void,
  ) {}

  /** held: bytes this account holds now. */
  get held(): number {
    return this.bytes;
  }

  /** hold records that the decoder now holds `bytes`; going over the budget evicts (see above). */
  hold(bytes: number): void {
    if (this.closed || bytes === this.bytes) return;
    const before = this.bytes;
    this.bytes = bytes;
    this.budget.set(this, before, bytes);
  }

  /** close gives everything back; the account holds nothing from now on. */
  close(): void {
    this.hold(0);
    this.closed = true;
  }

  /** revoke: the budget took the bytes back (eviction); later calls are ignored. */
  revoke(): void {
    const before = this.bytes;
    this.bytes = 0;
    this.closed = true;
    this.budget.set(this, before, 0);
  }
}

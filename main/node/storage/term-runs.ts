/**
 * TermRuns tracks which indexes a log holds and their terms, as runs of equal terms, without
 * keeping the entries themselves. Indexes are contiguous from `first` to `last`.
 */
export class TermRuns {
  first = 0;
  last = 0;
  private starts: number[] = [];
  private terms: number[] = [];

  get empty(): boolean {
    return this.starts.length === 0;
  }

  /** append adds the entry at `index`, which must be last + 1 (or anything when empty). */
  append(index: number, term: number): void {
    const n = this.starts.length;
    if (n === 0) {
      this.first = index;
      this.starts.push(index);
      this.terms.push(term);
    } else if (this.terms[n - 1] !== term) {
      this.starts.push(index);
      this.terms.push(term);
    }
    this.last = index;
  }

  /** termAt returns the term of the entry at `index`, or undefined if the log does not hold it. */
  termAt(index: number): number | undefined {
    if (this.empty || index < this.first || index > this.last) return undefined;
    return this.terms[this.runOf(index)];
  }

  /** truncateFrom removes the entries at `index` and after. */
  truncateFrom(index: number): void {
    if (this.empty || index > this.last) return;
    if (index <= this.first) {
      this.clear();
      return;
    }
    this.last = index - 1;
    while (this.starts[this.starts.length - 1] > this.last) {
      this.starts.pop();
      this.terms.pop();
    }
  }

  /** dropThrough removes the entries at `index` and before. */
  dropThrough(index: number): void {
    if (this.empty || index < this.first) return;
    if (index >= this.last) {
      this.clear();
      return;
    }
    const k = this.runOf(index + 1);
    this.starts.splice(0, k);
    this.terms.splice(0, k);
    this.starts[0] = index + 1;
    this.first = index + 1;
  }

  clear(): void {
    this.starts = [];
    this.terms = [];
    this.first = 0;
    this.last = 0;
  }

  /** runOf returns the position of the run holding `index` (first <= index <= last). */
  private runOf(index: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * lab-host: the places a lab cluster runs in (see LabHost in main/lab/lab-dashboard.ts). The lab
 * itself is pure; its host gives it a monotonic clock in real ms and a repeating timer.
 */
import type { LabHost } from '../lab/lab-dashboard';

/** nodeLabHost: the lab in this Node.js process: performance.now() and setInterval. */
export function nodeLabHost(): LabHost {
  return {
    now: () => performance.now(),
    every(ms, fn) {
      const t = setInterval(fn, ms);
      return () => clearInterval(t);
    },
  };
}

/**
 * ManualHost: a LabHost whose clock and timers a test moves by hand (advance), so a lab run
 * driven through the dashboard API is deterministic to the byte.
 */
export class ManualHost implements LabHost {
  private t: number;
  private readonly timers: { ms: number; next: number; fn: () => void }[] = [];

  constructor(start = 0) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.push(timer);
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /** advance moves the clock ms on, running every timer due on the way, in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: { ms: number; next: number; fn: () => void } | undefined;
      for (const x of this.timers) if (x.next <= end && (!due || x.next < due.next)) due = x;
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

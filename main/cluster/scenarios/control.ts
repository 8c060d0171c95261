/**
 * control: pause, step and resume of one scenario run. A run passes through gate() before each
 * of its steps; pause() holds it there (the step in progress finishes first), step() lets exactly
 * one more step through and holds the run again, resume() lets it go on. Every change of the
 * paused state is told to the listener the run binds (so the view's ScenarioRun.paused follows).
 */
export class ScenarioControl {
  private held = false;
  /** allowance: steps let through while paused (one per step()). */
  private allowance = 0;
  private waiters: (() => void)[] = [];
  private listener: (paused: boolean) => void = () => undefined;

  /** paused: the run holds before its next step. */
  get paused(): boolean {
    return this.held;
  }

  /** bind sets who hears of each change of the paused state (the run's narration). */
  bind(listener: (paused: boolean) => void): void {
    this.listener = listener;
  }

  /** pause holds the run before its next step (no change when it is paused already). */
  pause(): void {
    if (this.held) return;
    this.held = true;
    this.allowance = 0;
    this.listener(true);
  }

  /** resume lets a paused run go on (no change when it is not paused). */
  resume(): void {
    if (!this.held) return;
    this.held = false;
    this.allowance = 0;
    this.wake();
    this.listener(false);
  }

  /** step lets one more step of a paused run through; an error when the run is not paused. */
  step(): void {
    if (!this.held) throw new Error('the scenario is not paused: pause it before stepping');
    this.allowance++;
    this.wake();
  }

  /** gate resolves when the run may start its next step. */
  async gate(): Promise<void> {
    while (this.held) {
      if (this.allowance > 0) {
        this.allowance--;
        return;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

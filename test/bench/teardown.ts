/**
 * teardown keeps track of everything the benchmark starts (clusters, processes, temp dirs) so that
 * a normal end, a failure and Ctrl-C all stop it: registered steps run newest first, and the pids
 * of processes still alive are killed by id as a last resort.
 */

type Step = () => Promise<void> | void;

const steps: { name: string; run: Step }[] = [];
const pidSources = new Set<() => (number | null)[]>();
let interrupted = false;

/** onTeardown registers a step to run at the end; the returned function unregisters it. */
export function onTeardown(name: string, run: Step): () => void {
  const entry = { name, run };
  steps.push(entry);
  return () => {
    const i = steps.indexOf(entry);
    if (i >= 0) steps.splice(i, 1);
  };
}

/** trackPids registers a source of pids of live child processes (read at kill time). */
export function trackPids(source: () => (number | null)[]): () => void {
  pidSources.add(source);
  return () => pidSources.delete(source);
}

let running: Promise<void> | undefined;

/**
 * teardownAll runs every registered step, newest first; a failing step does not stop the rest.
 * Called again while it runs, it returns the same promise.
 */
export function teardownAll(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const s = steps.pop()!;
      try {
        await s.run();
      } catch (e) {
        console.error(`bench: stopping ${s.name}: ${(e as Error).message}`);
      }
    }
    killTracked();
  })().finally(() => {
    running = undefined;
  });
  return running;
}

/** killTracked sends SIGKILL to every tracked pid that is still alive. */
function killTracked(): void {
  for (const source of pidSources) {
    for (const pid of source()) {
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** isInterrupted: Ctrl-C (or SIGTERM) arrived; long loops check it to stop early. */
export function isInterrupted(): boolean {
  return interrupted;
}

/**
 * installSignalHandlers: the first SIGINT/SIGTERM stops everything gracefully and exits 130; a
 * second one kills the tracked processes at once. On any exit, survivors are killed.
 */
export function installSignalHandlers(): void {
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      killTracked();
      process.exit(130);
    }
    interrupted = true;
    console.error(`\nbench: ${sig}: stopping every cluster and process it started`);
    const force = setTimeout(() => {
      killTracked();
      process.exit(130);
    }, 15_000);
    force.unref();
    void teardownAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killTracked);
}

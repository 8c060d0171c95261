import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli } from './run-cli';

afterAll(() => killAll());

describe('raftdeck scenario', () => {
  it('runs leader-crash on a temporary cluster, narrating each step, and passes', async () => {
    const r = await runCli(['scenario', 'leader-crash'], 90_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^scenario leader-crash: Leader crash/);
    expect(r.stdout).toMatch(/starting a cluster in .*raftdeck-scenario-.* \(temporary\)/);
    expect(r.stdout).toMatch(/✓ Kill -9 the leader/);
    expect(r.stdout).toMatch(/✓ Restore the cluster/);
    expect(r.stdout).toMatch(/scenario leader-crash passed in [\d.]+ s/);
  }, 120_000);

  it('runs leader-crash at 3× pace with fast failover off, and says the election waited out its timeout', async () => {
    const r = await runCli(['scenario', 'leader-crash', '--pace', '3'], 180_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /✓ The others elect a new leader .*followers campaigned after the election timeout \(fast failover is off\)/,
    );
    expect(r.stdout).toMatch(/scenario leader-crash passed in [\d.]+ s/);
  }, 240_000);
});

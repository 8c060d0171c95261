import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PORT_RANGE, freePort, portRange } from '../../main/cluster/manifest';

describe('the range new nodes take their ports from', () => {
  const saved = process.env.RAFTDECK_PORT_RANGE;
  afterEach(() => {
    if (saved === undefined) delete process.env.RAFTDECK_PORT_RANGE;
    else process.env.RAFTDECK_PORT_RANGE = saved;
  });

  it('defaults to the ports below the ephemeral range, and reads LO-HI from the environment', () => {
    expect(portRange({})).toEqual(DEFAULT_PORT_RANGE);
    expect(portRange({ RAFTDECK_PORT_RANGE: '24000-24009' })).toEqual({ lo: 24000, hi: 24009 });
  });

  it('refuses a value that is not a range, naming it', () => {
    for (const bad of ['24000', '24009-24000', '80-90', '24000-70000', 'a-b']) {
      expect(() => portRange({ RAFTDECK_PORT_RANGE: bad })).toThrow(
        `RAFTDECK_PORT_RANGE="${bad}" is not a port range`,
      );
    }
  });

  it('hands out only ports of the range, each once', async () => {
    process.env.RAFTDECK_PORT_RANGE = '24100-24107';
    const taken = new Set<number>();
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) ports.push(await freePort(taken));
    expect(new Set(ports).size).toBe(4);
    for (const p of ports) expect(p >= 24100 && p <= 24107).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_PEER_PORT_FLAGS, FlagError, parseNodeFlags } from '../../main/node/flags';
import { DEFAULT_PEER_PORT_LIMITS } from '../../main/node/transport/transport';

const base = ['--id', '1', '--cluster-id', 'c', '--data', '/tmp/x'];

describe('the peer port flags', () => {
  it('default to the transport defaults', () => {
    expect(parseNodeFlags(base).peerPort).toEqual(DEFAULT_PEER_PORT_FLAGS);
    expect(DEFAULT_PEER_PORT_FLAGS).toEqual({
      maxInboundConnections: 256,
      maxPendingHandshakes: 64,
      handshakeTimeoutMs: 2000,
    });
    expect(DEFAULT_PEER_PORT_LIMITS.maxFrameBytes).toBe(64 * 1024 * 1024);
  });

  it('override each bound', () => {
    const f = parseNodeFlags([
      ...base,
      '--peer-max-connections',
      '500',
      '--peer-max-pending',
      '100',
      '--peer-handshake-timeout-ms',
      '750',
      '--max-partial-frame-bytes',
      String(1 << 30),
    ]);
    expect(f.peerPort).toEqual({
      maxInboundConnections: 500,
      maxPendingHandshakes: 100,
      handshakeTimeoutMs: 750,
    });
    expect(f.maxPartialFrameBytes).toBe(1 << 30);
  });

  it('refuse values that cannot work', () => {
    const bad = (...extra: string[]): string => {
      try {
        parseNodeFlags([...base, ...extra]);
      } catch (e) {
        expect(e).toBeInstanceOf(FlagError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('--peer-max-connections', '0')).toContain('--peer-max-connections');
    expect(bad('--peer-max-connections', '10', '--peer-max-pending', '20')).toBe(
      '--peer-max-pending must not exceed --peer-max-connections',
    );
    // The budget must hold one whole frame of the largest size and its header.
    expect(bad('--max-partial-frame-bytes', String(64 * 1024 * 1024))).toContain(
      `expected an integer in ${64 * 1024 * 1024 + 4}..`,
    );
    expect(bad('--peer-handshake-timeout-ms', 'soon')).toContain('--peer-handshake-timeout-ms');
  });
});

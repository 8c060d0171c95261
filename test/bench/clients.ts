/**
 * clients opens the benchmark's clients from a plain description, so that load worker threads can
 * open their own: raftdeck's KvClient, an etcd3 client without the library's retry and
 * circuit-breaker policies (see etcd-cluster), or the floor system's pipelined client
 * (floor-client.ts).
 */
import { KvClient, type KvClientOptions } from '../../main/node/client';
import { etcdClient } from './etcd-cluster';
import { FloorClient } from './floor-client';
import type { Putter } from './load';

/** System: a system the benchmark measures. */
export type System = 'floor' | 'raftdeck' | 'etcd';

/** ClientSpec: which system, and the "host:port" client addresses to use (the floor: its leader). */
export interface ClientSpec {
  system: System;
  endpoints: string[];
}

export function openPutter(spec: ClientSpec, kvOptions: Partial<KvClientOptions> = {}): Putter {
  if (spec.system === 'raftdeck') {
    const kv = new KvClient({ endpoints: spec.endpoints, timeoutMs: 10_000, ...kvOptions });
    return { put: (k, v) => kv.put(k, v), close: () => kv.close() };
  }
  if (spec.system === 'floor') {
    const endpoint = spec.endpoints[0];
    if (endpoint === undefined) throw new Error("a floor client needs the leader's address");
    return new FloorClient(endpoint, kvOptions.timeoutMs ?? 10_000);
  }
  const c = etcdClient(spec.endpoints);
  return {
    put: (k, v) =>
      c
        .put(k)
        .value(Buffer.from(v.buffer, v.byteOffset, v.byteLength))
        .exec(),
    close: async () => c.close(),
  };
}

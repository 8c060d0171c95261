/**
 * clients opens the benchmark's clients from a plain description, so that load worker threads can
 * open their own: raftdeck's KvClient, or an etcd3 client without the library's retry and
 * circuit-breaker policies (see etcd-cluster).
 */
import { KvClient, type KvClientOptions } from '../../main/node/client';
import { etcdClient } from './etcd-cluster';
import type { Putter } from './load';

/** ClientSpec: which system, and the "host:port" client addresses to use. */
export interface ClientSpec {
  system: 'raftdeck' | 'etcd';
  endpoints: string[];
}

export function openPutter(spec: ClientSpec, kvOptions: Partial<KvClientOptions> = {}): Putter {
  if (spec.system === 'raftdeck') {
    const kv = new KvClient({ endpoints: spec.endpoints, timeoutMs: 10_000, ...kvOptions });
    return { put: (k, v) => kv.put(k, v), close: () => kv.close() };
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

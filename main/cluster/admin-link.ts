import { AdminClient, type AdminOpName } from '../node/admin-client';
import type { NodeEvent, NodeStatus } from '../node/node-api';

/** AdminLink is the supervisor's connection to one node's admin server. */
export interface AdminLink {
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  subscribe(
    opts: { status?: boolean; events?: boolean; logs?: boolean; hz?: number },
    handlers: {
      status?: (s: NodeStatus) => void;
      event?: (e: NodeEvent) => void;
      log?: (line: Record<string, unknown>) => void;
      close?: (err?: Error) => void;
    },
  ): void;
  close(): void;
}

/** AdminConnect opens an authenticated admin link to "host:port". */
export type AdminConnect = (address: string, token: string) => Promise<AdminLink>;

/** connectAdmin is the real AdminConnect: an authenticated AdminClient behind the AdminLink seam. */
export const connectAdmin: AdminConnect = async (address, token) => {
  const c = await AdminClient.connect(address, token);
  return {
    call: <T>(op: string, args?: Record<string, unknown>) =>
      c.call(op as AdminOpName, (args ?? {}) as never) as Promise<T>,
    subscribe: (opts, h) => {
      c.subscribe(opts, {
        status: h.status,
        event: h.event,
        log: h.log,
        closed: (e) => h.close?.(e),
      }).catch((e: Error) => h.close?.(e));
    },
    close: () => void c.close(),
  };
};

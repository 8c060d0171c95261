import {
  AdminClient,
  AdminError,
  type AdminOpName,
  type AdminPushHandlers,
} from '../node/admin-client';
import type { SubscribeOptions } from '../node/admin-server';
import type { NodeEvent, NodeStatus } from '../node/node-api';
import type { MessageTrace } from '../raft/message-header';

/**
 * NodeMessages: one push of a node's sampled messages: the traces it sent ('out' only), and per
 * link "from-to" how many it sent without sampling them since its previous push.
 */
export interface NodeMessages {
  traces: MessageTrace[];
  skipped: Record<string, number>;
}

/** LinkSubscribeOptions: what the supervisor asks a node to push. */
export interface LinkSubscribeOptions {
  status?: boolean;
  events?: boolean;
  logs?: boolean;
  hz?: number;
  /** messages: sampled message traces, at most messagesPerLinkHz per link and type per second. */
  messages?: boolean;
  messagesPerLinkHz?: number;
}

/** AdminLink is the supervisor's connection to one node's admin server. */
export interface AdminLink {
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  subscribe(
    opts: LinkSubscribeOptions,
    handlers: {
      status?: (s: NodeStatus) => void;
      event?: (e: NodeEvent) => void;
      log?: (line: Record<string, unknown>) => void;
      messages?: (batch: NodeMessages) => void;
      close?: (err?: Error) => void;
    },
  ): void;
  close(): void;
}

/** AdminConnect opens an authenticated admin link to "host:port". */
export type AdminConnect = (address: string, token: string) => Promise<AdminLink>;

/**
 * connectAdmin is the real AdminConnect: an authenticated AdminClient behind the AdminLink seam.
 * A node of an earlier version refuses the `messages` subscription (bad-request); the link then
 * subscribes without it, so its status and events still come.
 */
export const connectAdmin: AdminConnect = async (address, token) => {
  const c = await AdminClient.connect(address, token);
  return {
    call: <T>(op: string, args?: Record<string, unknown>) =>
      c.call(op as AdminOpName, (args ?? {}) as never) as Promise<T>,
    subscribe: (opts, h) => {
      const handlers = {
        status: h.status,
        event: h.event,
        log: h.log,
        messages: h.messages,
        closed: (e: AdminError) => h.close?.(e),
      } satisfies AdminPushHandlers;
      c.subscribe(opts as Partial<SubscribeOptions>, handlers).catch((e: Error) => {
        if (opts.messages && e instanceof AdminError && e.code === 'bad-request') {
          const plain = { ...opts };
          delete plain.messages;
          delete plain.messagesPerLinkHz;
          c.subscribe(plain, handlers).catch((e2: Error) => h.close?.(e2));
        } else h.close?.(e);
      });
    },
    close: () => void c.close(),
  };
};

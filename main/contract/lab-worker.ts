/**
 * lab-worker: the dashboard API between a page and a lab cluster running in a Web Worker (the
 * static lab build). The page posts one LabWorkerStart, then calls; the worker answers each call
 * once by id and pushes views, events and messages, with the same messages as the WebSocket
 * (SocketCall, SocketServerMessage in socket.ts), sent as structured clones instead of JSON.
 * LabWorkerReady tells the page the lab runs; LabWorkerFailed that it could not start (the page
 * shows the reason).
 */
import type { SocketCall, SocketServerMessage } from './socket';

/** LabWorkerStart: page → worker, first and once: the lab to run. */
export interface LabWorkerStart {
  type: 'start';
  seed: number;
  nodes: number;
}

export interface LabWorkerReady {
  type: 'ready';
}

export interface LabWorkerFailed {
  type: 'failed';
  error: string;
}

export type LabWorkerInbound = LabWorkerStart | SocketCall;
export type LabWorkerOutbound = LabWorkerReady | LabWorkerFailed | SocketServerMessage;

/** LAB_NODES_MIN, LAB_NODES_MAX: how many nodes a lab may start with. */
export const LAB_NODES_MIN = 1;
export const LAB_NODES_MAX = 9;

/**
 * labStartOf: the lab a page asks for in its URL's query (`?seed=7&nodes=5`): a seed of 0 to
 * 2^32 − 1 (default 1) and LAB_NODES_MIN..LAB_NODES_MAX nodes (default 3). A value that is not
 * one of those is an error naming it, not a silent default.
 */
export function labStartOf(search: string): LabWorkerStart | { error: string } {
  const q = new URLSearchParams(search);
  const seedText = q.get('seed');
  const nodesText = q.get('nodes');
  const seed = seedText === null ? 1 : seedText === '' ? NaN : Number(seedText);
  const nodes = nodesText === null ? 3 : nodesText === '' ? NaN : Number(nodesText);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    return {
      error: `seed must be an integer from 0 to 4294967295 (got ${JSON.stringify(seedText)})`,
    };
  }
  if (!Number.isSafeInteger(nodes) || nodes < LAB_NODES_MIN || nodes > LAB_NODES_MAX) {
    return {
      error: `nodes must be an integer from ${LAB_NODES_MIN} to ${LAB_NODES_MAX} (got ${JSON.stringify(nodesText)})`,
    };
  }
  return { type: 'start', seed, nodes };
}

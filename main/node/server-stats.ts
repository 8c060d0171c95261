/**
 * server-stats: what the client and admin ports report of their bounds and counts (in the node's
 * status, `servers`). Apart from the servers so that the node's API can name them without
 * importing the servers that use that API.
 */

/** ClientServerStats are the server's bounds, and counts since it started. */
export interface ClientServerStats {
  limits: { maxConnections: number; idleTimeoutMs: number; maxInFlight: number };
  /** connections: open now; idle: of those, with no request in flight; accepted: ever. */
  connections: number;
  idle: number;
  accepted: number;
  /** requests: valid requests handed to the node. */
  requests: number;
  badRequests: number;
  /** busy: requests refused with `unavailable` because too many were in flight. */
  busy: number;
  /** malformedFrames, oversizedFrames: unreadable frames (each closed its connection). */
  malformedFrames: number;
  oversizedFrames: number;
  /** overBudget: connections closed to keep incomplete frames within the process budget. */
  overBudget: number;
  /** idleClosed: closed after idleTimeoutMs; evicted: idle ones closed to make room for a new one. */
  idleClosed: number;
  evicted: number;
  /** refused: new connections turned away because every open one had a request in flight. */
  refused: number;
}

/** AdminServerStats are the server's bounds, and counts since it started. */
export interface AdminServerStats {
  limits: {
    maxPending: number;
    maxSessions: number;
    authTimeoutMs: number;
    idleTimeoutMs: number;
    maxInFlight: number;
  };
  /** pending: connections not yet authenticated; sessions: authenticated ones. */
  pending: number;
  sessions: number;
  accepted: number;
  /** unauthorized: refused for a wrong or missing token, or none within authTimeoutMs. */
  unauthorized: number;
  /** evictedPending: closed unauthenticated to make room for a newer connection. */
  evictedPending: number;
  /** refusedSessions: authenticated while maxSessions were open, and refused. */
  refusedSessions: number;
  idleClosed: number;
  /** overBudget: connections closed to keep incomplete frames within the process budget. */
  overBudget: number;
}

/**
 * dispatch: one validated call into the dashboard API, answered as a CallReply. Shared by the
 * WebSocket and HTTP paths of main/web and by main/app's IPC handlers, so that every transport
 * refuses the same arguments with the same messages.
 */
import { CallRefused } from './api';
import type { CallReply, DashboardApi } from './api';
import { isCallName, validateCall } from './validate';

export async function dispatchCall(
  api: DashboardApi,
  name: unknown,
  args: unknown,
): Promise<CallReply> {
  if (!isCallName(name)) {
    return { ok: false, status: 404, error: `unknown call ${JSON.stringify(String(name))}` };
  }
  const valid = validateCall(name, args);
  if (!valid.ok) return { ok: false, status: 400, error: valid.error };
  try {
    const fn = api[name] as (...a: unknown[]) => Promise<unknown>;
    const value = await fn.apply(api, args as unknown[]);
    return { ok: true, value: value === undefined ? null : value };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      status: err instanceof CallRefused ? 409 : 500,
      error: `${name}: ${message}`,
    };
  }
}

// The bridge between the sandboxed renderer and the main process. It exposes exactly the
// dashboard API as `window.raftdeck`: one function per call (each an ipcRenderer.invoke on that
// call's channel) and `on` to subscribe to the pushes. Nothing else crosses.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { CALLS, PUSHES, callChannel, pushChannel } from '../main/contract/api';
import type {
  CallName,
  CallReply,
  DashboardBridge,
  PushHandler,
  PushName,
} from '../main/contract/api';

async function invoke(name: CallName, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(callChannel(name), ...args)) as CallReply;
  if (!reply.ok) throw new Error(reply.error);
  return reply.value;
}

const calls = Object.fromEntries(
  CALLS.map((name) => [name, (...args: unknown[]) => invoke(name, args)]),
) as unknown as Omit<DashboardBridge, 'on'>;

const pushNames: ReadonlySet<string> = new Set(PUSHES);

function on<P extends PushName>(push: P, handler: PushHandler<P>): () => void {
  if (!pushNames.has(push)) throw new Error(`unknown push ${String(push)}`);
  const channel = pushChannel(push);
  const listener = (_event: IpcRendererEvent, payload: unknown): void => {
    handler(payload as Parameters<PushHandler<P>>[0]);
  };
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const bridge: DashboardBridge = { ...calls, on };

contextBridge.exposeInMainWorld('raftdeck', bridge);

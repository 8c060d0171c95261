/**
 * ipc binds the dashboard API to one window over Electron IPC: a handler per call channel and the
 * pushes sent to the window. Each call is accepted only from the window's own main frame showing
 * our renderer (the built index.html, or the dev server in development), and its arguments pass
 * the shared validator before they reach the API. Replies are CallReply envelopes; preload unwraps
 * them so a renderer sees the plain error message.
 */
import { pathToFileURL } from 'node:url';
import { ipcMain } from 'electron';
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import { CALLS, callChannel, pushChannel } from '../contract/api';
import type { CallReply, DashboardApi, PushSource } from '../contract/api';
import { dispatchCall } from '../contract/dispatch';
import { createViewThrottle } from '../contract/push-throttle';

export interface IpcOptions {
  /** rendererFile: absolute path of the built renderer's index.html. */
  rendererFile: string;
  /** devUrl: the renderer dev server, when running under `electron-vite dev`. */
  devUrl?: string | undefined;
}

/** isOurRenderer reports whether url is the built renderer page or a page of the dev server. */
export function isOurRenderer(url: string, options: IpcOptions): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'file:') {
    const page = new URL(pathToFileURL(options.rendererFile).href);
    return parsed.pathname === page.pathname;
  }
  if (options.devUrl) return parsed.origin === new URL(options.devUrl).origin;
  return false;
}

/** bindIpc installs the handlers and pushes; the returned function removes them all. */
export function bindIpc(
  api: DashboardApi & PushSource,
  window: BrowserWindow,
  options: IpcOptions,
): () => void {
  const contents = window.webContents;

  const refuse = (event: IpcMainInvokeEvent): string | null => {
    if (event.sender !== contents) return 'not our window';
    const frame = event.senderFrame;
    if (!frame || frame !== contents.mainFrame) return 'not the main frame';
    if (!isOurRenderer(frame.url, options)) return 'not our renderer page';
    return null;
  };

  for (const name of CALLS) {
    ipcMain.handle(callChannel(name), async (event, ...args: unknown[]): Promise<CallReply> => {
      const why = refuse(event);
      if (why !== null) return { ok: false, status: 403, error: `${name}: refused (${why})` };
      return dispatchCall(api, name, args);
    });
  }

  const send = (channel: string, payload: unknown): void => {
    if (!window.isDestroyed() && !contents.isDestroyed()) contents.send(channel, payload);
  };
  const views = createViewThrottle((view) => send(pushChannel('view'), view));
  const offView = api.onView((view) => views.push(view));
  const offEvent = api.onEvent((event) => send(pushChannel('event'), event));
  // The source sends at most 20 batches a second, each bounded; IPC has no backlog to watch.
  const offMessages = api.onMessages((batch) => send(pushChannel('messages'), batch));

  return () => {
    for (const name of CALLS) ipcMain.removeHandler(callChannel(name));
    views.dispose();
    offView();
    offEvent();
    offMessages();
  };
}

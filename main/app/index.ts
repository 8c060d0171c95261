// The Electron shell: lifecycle only. Everything that is not about windows lives elsewhere.
import { join } from 'node:path';
import { app, BrowserWindow, dialog } from 'electron';
import type { DashboardApi, PushSource } from '../contract/api';
import {
  attachRequestOf,
  createBackend,
  openLabBackend,
  openRecordingBackend,
  openRequestedAttach,
  rememberAttach,
  rememberedAttach,
} from './backend';
import type { AttachRequest, Backend } from './backend';
import { bindIpc } from './ipc';
import { installMenu } from './menu';
import { hardenApp } from './security';
import { appPaths, createMainWindow } from './window';

hardenApp();

let backend: Backend | null = null;
/**
 * window: the dashboard window; unbind: its IPC binding; other: what it shows instead of the
 * cluster (a lab cluster or a recording), if anything.
 */
let window: BrowserWindow | null = null;
let unbind: (() => void) | null = null;
let other: Backend | null = null;

/** bindWindow binds the window's IPC to `api` (only one binding exists at a time). */
function bindWindow(api: DashboardApi & PushSource): void {
  unbind?.();
  unbind = null;
  if (!window) return;
  unbind = bindIpc(api, window, {
    rendererFile: appPaths().rendererFile,
    devUrl: process.env.ELECTRON_RENDERER_URL,
  });
}

/** openWindow creates the dashboard window and binds its IPC to the backend, if there is one. */
function openWindow(): void {
  const win = createMainWindow();
  window = win;
  if (other) bindWindow(other.api);
  else if (backend) bindWindow(backend.api);
  win.on('closed', () => {
    unbind?.();
    unbind = null;
    if (window === win) window = null;
  });
}

/**
 * showOther binds the window to `next` (a lab cluster or a recording; back to the cluster for
 * null) and reloads it; what it showed before instead of the cluster is closed.
 */
function showOther(next: Backend | null): void {
  const prev = other;
  other = next;
  if (next) bindWindow(next.api);
  else if (backend) bindWindow(backend.api);
  else {
    unbind?.();
    unbind = null;
  }
  void prev?.dispose();
  window?.reload();
  menu();
}

/** openRecording asks for a recording (an export file) and shows it in the window. */
async function openRecording(): Promise<void> {
  const options = {
    title: 'Open recording',
    properties: ['openFile' as const],
    filters: [
      { name: 'raftdeck recordings', extensions: ['rdrec'] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
  const picked = window
    ? await dialog.showOpenDialog(window, options)
    : await dialog.showOpenDialog(options);
  const path = picked.filePaths[0];
  if (picked.canceled || path === undefined) return;
  try {
    showOther(openRecordingBackend(path));
  } catch (err) {
    dialog.showErrorBox('raftdeck could not open the recording', (err as Error).message);
  }
}

/** openLab shows a new lab cluster in the window (seed 1, three nodes, as `raftdeck lab`). */
function openLab(): void {
  try {
    showOther(openLabBackend());
  } catch (err) {
    dialog.showErrorBox('raftdeck could not open a lab cluster', (err as Error).message);
  }
}

/**
 * attach shows the etcd cluster `request` names (read-only) in the window, and remembers its
 * endpoints, TLS file paths and user (never a password) for the next "Attach to an etcd cluster…".
 */
async function attach(request: AttachRequest): Promise<void> {
  try {
    const attached = await openRequestedAttach(request, process.env);
    rememberAttach(app.getPath('userData'), request);
    showOther(attached);
  } catch (err) {
    dialog.showErrorBox('raftdeck could not attach to the etcd cluster', (err as Error).message);
  }
}

/**
 * attachDialog: File → "Attach to an etcd cluster…". It offers the cluster attached last, and
 * says how to attach to another (the endpoints and certificates are given on the command line,
 * the password in the environment: the app never asks for or keeps a secret).
 */
async function attachDialog(): Promise<void> {
  const last = rememberedAttach(app.getPath('userData'));
  const how =
    'To attach to another etcd cluster, start the app with its client URLs:\n\n' +
    '  raftdeck app --attach https://HOST:2379[,...] [--cacert CA.pem --cert CLIENT.pem --key CLIENT-KEY.pem] [--user NAME]\n\n' +
    "A user's password is read from RAFTDECK_ETCD_PASSWORD. The cluster is shown read-only; " +
    'membership changes need `raftdeck attach --allow-changes`.';
  const options = last
    ? {
        type: 'question' as const,
        title: 'Attach to an etcd cluster',
        message: `Attach to the etcd cluster at ${last.endpoints.join(', ')} (read-only)?`,
        detail: how,
        buttons: ['Attach', 'Cancel'],
        defaultId: 0,
        cancelId: 1,
      }
    : {
        type: 'info' as const,
        title: 'Attach to an etcd cluster',
        message: 'No etcd cluster was attached yet.',
        detail: how,
        buttons: ['OK'],
      };
  const answer = window
    ? await dialog.showMessageBox(window, options)
    : await dialog.showMessageBox(options);
  if (last && answer.response === 0) await attach(last);
}

function menu(): void {
  installMenu({
    openLab,
    openRecording: () => void openRecording(),
    attach: () => void attachDialog(),
    backToCluster: () => showOther(null),
    showingOther: other !== null,
  });
}

app.whenReady().then(
  async () => {
    try {
      backend = await createBackend(
        process.env.RAFTDECK_DATA ?? join(app.getPath('userData'), 'cluster'),
      );
    } catch (err) {
      dialog.showErrorBox('raftdeck could not start its cluster', (err as Error).message);
    }
    menu();
    openWindow();
    // `raftdeck app --attach URL,...` (or --attach given to the shell): show that cluster.
    let request: AttachRequest | null = null;
    try {
      request = attachRequestOf(process.argv, process.env);
    } catch (err) {
      dialog.showErrorBox('raftdeck could not attach to the etcd cluster', (err as Error).message);
    }
    if (request) await attach(request);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  },
  (err: unknown) => {
    console.error('raftdeck: failed to start', err);
    app.exit(1);
  },
);

// Quitting with the last window also ends the cluster the app supervises.
app.on('window-all-closed', () => {
  app.quit();
});

// Stop every node before the app goes away (they would also exit on their own when we die).
let disposed = false;
app.on('before-quit', (e) => {
  if (disposed || !backend) return;
  e.preventDefault();
  disposed = true;
  void backend.dispose().finally(() => app.quit());
});

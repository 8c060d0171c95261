// The Electron shell: lifecycle only. Everything that is not about windows lives elsewhere.
import { join } from 'node:path';
import { app, BrowserWindow, dialog } from 'electron';
import { createBackend } from './backend';
import type { Backend } from './backend';
import { bindIpc } from './ipc';
import { hardenApp } from './security';
import { appPaths, createMainWindow } from './window';

hardenApp();

let backend: Backend | null = null;

/** openWindow creates the dashboard window and binds its IPC to the backend, if there is one. */
function openWindow(): void {
  const win = createMainWindow();
  if (!backend) return;
  const unbind = bindIpc(backend.api, win, {
    rendererFile: appPaths().rendererFile,
    devUrl: process.env.ELECTRON_RENDERER_URL,
  });
  win.on('closed', unbind);
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
    openWindow();
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

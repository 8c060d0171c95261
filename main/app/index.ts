// The Electron shell: lifecycle only. Everything that is not about windows lives elsewhere.
import { app, BrowserWindow } from 'electron';
import { hardenApp } from './security';
import { createMainWindow } from './window';

hardenApp();

app.whenReady().then(
  () => {
    createMainWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
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

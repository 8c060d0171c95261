import { join } from 'node:path';
import { app, BrowserWindow } from 'electron';

/**
 * appPaths: the built preload and renderer, from the app root (where package.json is), not from
 * this module, so that bundling into chunks cannot move them.
 */
export function appPaths(): { preloadPath: string; rendererFile: string } {
  const out = join(app.getAppPath(), 'out');
  return {
    preloadPath: join(out, 'preload', 'index.cjs'),
    rendererFile: join(out, 'renderer', 'index.html'),
  };
}

/**
 * createMainWindow opens the dashboard window. In development it loads the renderer dev server
 * (ELECTRON_RENDERER_URL, set by electron-vite); otherwise the built renderer/index.html.
 */
export function createMainWindow(): BrowserWindow {
  const { preloadPath, rendererFile } = appPaths();

  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    title: 'raftdeck',
    show: false,
    backgroundColor: '#0f1419',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });

  win.once('ready-to-show', () => {
    win.show();
  });

  const devUrl = process.env.ELECTRON_RENDERER_URL;
  const loading = devUrl ? win.loadURL(devUrl) : win.loadFile(rendererFile);
  loading.catch((err: unknown) => {
    console.error('raftdeck: failed to load the dashboard', err);
  });

  return win;
}

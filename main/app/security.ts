import { app, session } from 'electron';

/**
 * hardenApp applies the Electron security checklist to every web contents the app creates:
 * navigation away from the dashboard is denied, new windows are denied, webviews are refused,
 * and every permission request or check is answered "no".
 * It must run before the first window is created.
 */
export function hardenApp(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => {
      event.preventDefault();
    });
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => {
      callback(false);
    });
    session.defaultSession.setPermissionCheckHandler(() => false);
  });
}

/**
 * menu: the app's menu bar. File holds "Open recording…" (a recording opened without a cluster,
 * shown in the same window) and "Back to the cluster" (the window shows the live cluster again);
 * the rest are Electron's standard Edit, View and Window menus.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openRecording(): void;
  backToCluster(): void;
  /** showingRecording: whether the window shows a recording now (enables "Back to the cluster"). */
  showingRecording: boolean;
}

/** installMenu sets the application menu (call it again when `showingRecording` changes). */
export function installMenu(actions: MenuActions): void {
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        {
          label: 'Open recording…',
          accelerator: 'CmdOrCtrl+O',
          click: () => actions.openRecording(),
        },
        {
          label: 'Back to the cluster',
          enabled: actions.showingRecording,
          click: () => actions.backToCluster(),
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

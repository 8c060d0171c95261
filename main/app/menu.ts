/**
 * menu: the app's menu bar. File holds "Open a lab cluster" (a lab cluster: the real Raft core on
 * a simulated network, stepped and broken at will, shown in the same window), "Open recording…"
 * (a recording opened without a cluster), "Attach to an etcd cluster…" (an etcd cluster raftdeck
 * did not start, read-only) and "Back to the cluster" (the window shows the live cluster again);
 * the rest are Electron's standard Edit, View and Window menus.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openLab(): void;
  openRecording(): void;
  /** attach: offer the etcd cluster attached last, and say how to attach to another. */
  attach(): void;
  backToCluster(): void;
  /**
   * showingOther: whether the window shows a lab cluster, a recording or an attached cluster now
   * instead of the cluster (enables "Back to the cluster").
   */
  showingOther: boolean;
}

/** installMenu sets the application menu (call it again when `showingOther` changes). */
export function installMenu(actions: MenuActions): void {
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        {
          label: 'Open a lab cluster',
          accelerator: 'CmdOrCtrl+L',
          click: () => actions.openLab(),
        },
        {
          label: 'Open recording…',
          accelerator: 'CmdOrCtrl+O',
          click: () => actions.openRecording(),
        },
        {
          label: 'Attach to an etcd cluster…',
          click: () => actions.attach(),
        },
        {
          label: 'Back to the cluster',
          enabled: actions.showingOther,
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

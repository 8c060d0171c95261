/// <reference types="vite/client" />

import type { DashboardBridge } from '../../main/contract/api';

declare global {
  // Window.raftdeck is the bridge preload exposes inside Electron; absent in a plain browser.
  interface Window {
    raftdeck?: DashboardBridge;
  }
}

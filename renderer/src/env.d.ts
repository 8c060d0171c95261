/// <reference types="vite/client" />

// Window.raftdeck is the bridge the preload exposes inside Electron; absent in a plain browser.
interface Window {
  raftdeck?: {
    readonly version: string;
  };
}

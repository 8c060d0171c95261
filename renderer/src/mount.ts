/**
 * mount: the dashboard on a page, over a transport. The desktop app and browser mode reach their
 * cluster through main.ts (bridge or WebSocket); the static lab build (lab-main.ts) through its
 * Web Worker. Everything else is the same dashboard.
 */
import { createApp } from 'vue';
import { createPinia } from 'pinia';
import { createWebHashHistory } from 'vue-router';
import App from './App.vue';
import type { Transport } from './api';
import { createDeckRouter } from './router';
import { startStores } from './stores';
import { useUiStore } from './stores/ui';
import './styles.css';

// Hash history: the page loads from file:// in Electron and in the static lab build, and from the
// web server in a browser, and a hash URL (#/node/3) works in all without the server knowing the
// routes.
export function mountDeck(transport: Transport, selector = '#app'): void {
  const pinia = createPinia();
  const router = createDeckRouter(createWebHashHistory());
  const app = createApp(App).use(pinia).use(router);
  useUiStore(pinia).attach(router);
  startStores(pinia, transport);
  app.mount(selector);
}

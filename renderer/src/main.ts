import { createApp } from 'vue';
import { createPinia } from 'pinia';
import { createWebHashHistory } from 'vue-router';
import App from './App.vue';
import { createTransport } from './api';
import { createDeckRouter } from './router';
import { startStores } from './stores';
import { useUiStore } from './stores/ui';
import './styles.css';

// Hash history: the page loads from file:// in Electron and from the web server in a browser,
// and a hash URL (#/node/3) works in both without the server knowing the routes.
const pinia = createPinia();
const router = createDeckRouter(createWebHashHistory());
const app = createApp(App).use(pinia).use(router);
useUiStore(pinia).attach(router);
startStores(pinia, createTransport());
app.mount('#app');

import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createTransport } from './api';
import { startStores } from './stores';
import './styles.css';

const pinia = createPinia();
const app = createApp(App).use(pinia);
startStores(pinia, createTransport());
app.mount('#app');

/**
 * lab-main: the static lab build's page (npm run build:lab). No server: the lab cluster runs in a
 * Web Worker built into the page, and the dashboard talks to it through the worker transport. The
 * page's query picks the lab (`?seed=7&nodes=5`); a bad value is shown instead of a dashboard.
 */
import { labStartOf } from '../../main/contract/lab-worker';
import { createWorkerTransport } from './api/worker-transport';
import { mountDeck } from './mount';
import LabWorker from '../../lab-worker/lab-worker?worker&inline';

const start = labStartOf(window.location.search);
if ('error' in start) {
  const app = document.getElementById('app');
  if (app) {
    app.textContent = `raftdeck lab: ${start.error}. Open the page as index.html?seed=7&nodes=3.`;
  }
} else {
  mountDeck(createWorkerTransport(new LabWorker(), start));
}

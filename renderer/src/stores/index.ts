import type { Pinia } from 'pinia';
import type { Transport } from '../api';
import { useClusterStore } from './cluster';
import { useConnectionStore } from './connection';
import { useEventsStore } from './events';
import { useMessagesStore } from './messages';
import { useScenariosStore } from './scenarios';

/**
 * startStores connects the stores to a transport and subscribes them to the pushes. (Time travel
 * starts asking for the recording when the app is mounted: see App.vue.)
 */
export function startStores(pinia: Pinia, transport: Transport): void {
  useClusterStore(pinia).start();
  useEventsStore(pinia).start();
  useScenariosStore(pinia).start();
  useMessagesStore(pinia).start();
  useConnectionStore(pinia).connect(transport);
}

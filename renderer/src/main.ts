import { createTransport } from './api';
import { mountDeck } from './mount';

mountDeck(createTransport());

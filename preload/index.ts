// The bridge between the sandboxed renderer and the main process. It exposes exactly the
// dashboard API, one function per call; for now only the version.
import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('raftdeck', { version: '0.1.0' });

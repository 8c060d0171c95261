#!/usr/bin/env node
// raftdeck command line. The commands are TypeScript sources (main/cli); tsx compiles them on
// the fly, so `npx raftdeck` works right after `npm install`, without a build.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../main/cli/index.ts', import.meta.url).href);

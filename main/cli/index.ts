/**
 * index is the `raftdeck` command line's entry point (bin/raftdeck.mjs loads it through tsx): it
 * runs the command and exits with its code, so that no leftover handle keeps the process alive.
 */
import { main } from './main';

const code = await main(process.argv.slice(2));
process.exit(code);

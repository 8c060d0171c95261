// Entry point of one Raft node process. Runs under plain `node` and under Electron with
// ELECTRON_RUN_AS_NODE=1, so it must never import electron.
console.log(JSON.stringify({ msg: 'raftdeck node: not yet' }));
process.exit(0);

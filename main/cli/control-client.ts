import { connect } from 'node:net';
import { join } from 'node:path';
import { CliError } from './args';
import { CONTROL_FILE, readControl } from './cluster-files';
import type {
  ControlCommand,
  ControlMessage,
  ControlResult,
  ControlStep,
} from './control-protocol';

/**
 * controlCall sends one command to the control port of the `raftdeck start` running in `dir`,
 * calls `onStep` for every workflow step it streams, and resolves with the result. It fails with
 * a CliError naming the address it tried when it cannot reach the port.
 */
export async function controlCall(
  dir: string,
  command: ControlCommand,
  onStep: (s: ControlStep) => void = () => undefined,
): Promise<ControlResult> {
  const info = readControl(dir);
  const address = `127.0.0.1:${info.port}`;
  const from = join(dir, CONTROL_FILE);
  return new Promise<ControlResult>((resolve, reject) => {
    let buf = '';
    let result: ControlResult | undefined;
    let connected = false;
    const socket = connect({ host: '127.0.0.1', port: info.port });
    socket.setEncoding('utf8');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new CliError(`cannot reach the control port at ${address} (from ${from}): timed out`));
    }, 3000);
    socket.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      socket.write(`${JSON.stringify({ token: info.token, ...command })}\n`);
    });
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: ControlMessage;
        try {
          m = JSON.parse(line) as ControlMessage;
        } catch {
          continue;
        }
        if (m.type === 'step') onStep(m);
        else if (m.type === 'result') result = m;
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected)
        reject(
          new CliError(
            `cannot reach the control port at ${address} (from ${from}): ${e.code ?? e.message}; is \`raftdeck start --data ${dir}\` still running?`,
          ),
        );
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (result) resolve(result);
      else if (connected)
        reject(
          new CliError(`the control port at ${address} closed the connection before answering`),
        );
    });
  });
}

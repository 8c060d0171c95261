/**
 * prompt: questions asked on the terminal (stdin a TTY), written to stderr so that stdout keeps
 * only what a command prints. askSecret does not echo what is typed (a password never shows on
 * the screen, in the process list or in the shell's history); Ctrl-C while asking ends the
 * command with exit code 130, Ctrl-D on an empty answer cancels.
 */
import { createInterface } from 'node:readline';
import { CliError } from './args';

/** isTerminal: whether questions can be asked (stdin is a terminal). */
export function isTerminal(): boolean {
  return process.stdin.isTTY === true;
}

/** askLine asks `question` and resolves with the line typed (without its end). */
export function askLine(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new CliError('cancelled', 130));
    });
    rl.on('close', () => {
      if (!answered) reject(new CliError('cancelled: no answer'));
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}

/** askSecret asks `question` and reads a line without echoing it (Backspace edits it). */
export function askSecret(question: string): Promise<string> {
  const input = process.stdin;
  // Raw mode before the question: a key typed as soon as the question shows is never echoed.
  input.setRawMode(true);
  process.stderr.write(question);
  input.setEncoding('utf8');
  input.resume();
  return new Promise<string>((resolve, reject) => {
    let value = '';
    const end = (): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          end();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          end();
          reject(new CliError('cancelled', 130));
          return;
        }
        if (ch === '\u0004' && value === '') {
          end();
          reject(new CliError('cancelled: no password given'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    input.on('data', onData);
  });
}

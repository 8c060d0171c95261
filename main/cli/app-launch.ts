/**
 * app-launch decides how `npm start` (`raftdeck app`) opens the dashboard: in Electron's desktop
 * window when Electron's binary is installed and there is a display to show it on, otherwise the
 * same dashboard in browser mode, over the same cluster folder the desktop app would use. The
 * decision is made from what the machine has, never by trying Electron and reading its error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** APP_NAME: the desktop app's name, which names its folder in the user's application data. */
export const APP_NAME = 'raftdeck';

/** LaunchMachine is what the decision looks at. */
export interface LaunchMachine {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  home: string;
  /** electronDir: the installed `electron` package's folder, or undefined if it is not installed. */
  electronDir: string | undefined;
}

/** Launch is how to open the dashboard: Electron's binary, or browser mode and why. */
export type Launch = { mode: 'electron'; binary: string } | { mode: 'browser'; reason: string };

/**
 * appDataDir is the cluster folder the desktop app uses: RAFTDECK_DATA if set, else `cluster` in
 * the app's folder of the user's application data (Electron's `userData`: $XDG_CONFIG_HOME or
 * ~/.config on Linux, ~/Library/Application Support on macOS, %APPDATA% on Windows).
 */
export function appDataDir(m: Pick<LaunchMachine, 'env' | 'platform' | 'home'>): string {
  if (m.env.RAFTDECK_DATA) return m.env.RAFTDECK_DATA;
  let base: string;
  if (m.platform === 'darwin') base = join(m.home, 'Library', 'Application Support');
  else if (m.platform === 'win32') base = m.env.APPDATA ?? join(m.home, 'AppData', 'Roaming');
  else base = m.env.XDG_CONFIG_HOME || join(m.home, '.config');
  return join(base, APP_NAME, 'cluster');
}

/**
 * electronBinary returns the path of the Electron binary the `electron` package installed, or why
 * there is none. The package's install step writes `path.txt` (the binary's path inside `dist/`)
 * after the download; without the download there is no such file.
 */
export function electronBinary(
  electronDir: string | undefined,
  env: NodeJS.ProcessEnv,
): { binary: string } | { missing: string } {
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return existsSync(p) ? { binary: p } : { missing: `ELECTRON_OVERRIDE_DIST_PATH has no ${p}` };
  }
  if (electronDir === undefined) return { missing: 'the electron package is not installed' };
  const pathFile = join(electronDir, 'path.txt');
  const skipped = env.ELECTRON_SKIP_BINARY_DOWNLOAD
    ? ' (ELECTRON_SKIP_BINARY_DOWNLOAD was set when it was installed)'
    : ' (its download was skipped or failed)';
  if (!existsSync(pathFile)) return { missing: `Electron's binary is not installed${skipped}` };
  const binary = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return { missing: `Electron's binary ${binary} is missing${skipped}` };
  return { binary };
}

/** hasDisplay: a desktop window can be shown (on Linux, an X11 or Wayland display is set). */
export function hasDisplay(m: Pick<LaunchMachine, 'env' | 'platform'>): boolean {
  if (m.platform === 'darwin' || m.platform === 'win32') return true;
  return Boolean(m.env.DISPLAY || m.env.WAYLAND_DISPLAY);
}

/** chooseLaunch decides between the desktop window and browser mode (see the file comment). */
export function chooseLaunch(m: LaunchMachine): Launch {
  const found = electronBinary(m.electronDir, m.env);
  if ('missing' in found) return { mode: 'browser', reason: found.missing };
  if (!hasDisplay(m))
    return {
      mode: 'browser',
      reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)',
    };
  return { mode: 'electron', binary: found.binary };
}

/** installedElectronDir finds the `electron` package's folder, from `from` upwards. */
export function installedElectronDir(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'electron');
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** thisMachine describes the running machine for chooseLaunch. */
export function thisMachine(from: string): LaunchMachine {
  return {
    env: process.env,
    platform: process.platform,
    home: homedir(),
    electronDir: installedElectronDir(from),
  };
}

/** openerCommand is the command that opens a URL in the default browser, if there is a display. */
export function openerCommand(
  m: Pick<LaunchMachine, 'env' | 'platform'>,
  url: string,
): [string, string[]] | undefined {
  if (!hasDisplay(m)) return undefined;
  if (m.platform === 'darwin') return ['open', [url]];
  if (m.platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/**
 * How `npm start` opens the dashboard: the desktop window when Electron's binary is installed
 * and there is a display, browser mode (with the reason) otherwise, over the app's own folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appDataDir,
  chooseLaunch,
  installedElectronDir,
  openerCommand,
  type LaunchMachine,
} from '../../main/cli/app-launch';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** electronPackage makes an `electron` package folder, with its binary downloaded or not. */
function electronPackage(downloaded: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'raftdeck-electron-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"electron"}');
  if (downloaded) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'electron'), '');
    writeFileSync(join(dir, 'path.txt'), 'electron');
  }
  return dir;
}

const linux = (env: NodeJS.ProcessEnv, electronDir: string | undefined): LaunchMachine => ({
  env,
  platform: 'linux',
  home: '/home/ada',
  electronDir,
});

describe('chooseLaunch', () => {
  it('opens the desktop window when the binary is installed and there is a display', () => {
    const dir = electronPackage(true);
    expect(chooseLaunch(linux({ DISPLAY: ':0' }, dir))).toEqual({
      mode: 'electron',
      binary: join(dir, 'dist', 'electron'),
    });
    expect(chooseLaunch(linux({ WAYLAND_DISPLAY: 'wayland-0' }, dir)).mode).toBe('electron');
    expect(chooseLaunch({ ...linux({}, dir), platform: 'darwin' }).mode).toBe('electron');
  });

  it('falls back to browser mode when the download was skipped, and says so', () => {
    const dir = electronPackage(false);
    const skipped = chooseLaunch(linux({ DISPLAY: ':0', ELECTRON_SKIP_BINARY_DOWNLOAD: '1' }, dir));
    expect(skipped).toEqual({
      mode: 'browser',
      reason:
        "Electron's binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD was set when it was installed)",
    });
    expect(chooseLaunch(linux({ DISPLAY: ':0' }, dir))).toEqual({
      mode: 'browser',
      reason: "Electron's binary is not installed (its download was skipped or failed)",
    });
  });

  it('falls back when the binary path.txt names is gone, or the package is not installed', () => {
    const dir = electronPackage(true);
    rmSync(join(dir, 'dist', 'electron'));
    const gone = chooseLaunch(linux({ DISPLAY: ':0' }, dir));
    expect(gone.mode).toBe('browser');
    expect(gone.mode === 'browser' && gone.reason).toContain(join(dir, 'dist', 'electron'));
    expect(chooseLaunch(linux({ DISPLAY: ':0' }, undefined))).toEqual({
      mode: 'browser',
      reason: 'the electron package is not installed',
    });
  });

  it('falls back on Linux without a display, even with Electron installed', () => {
    expect(chooseLaunch(linux({}, electronPackage(true)))).toEqual({
      mode: 'browser',
      reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)',
    });
  });

  it('finds the electron package of this checkout', () => {
    expect(installedElectronDir(process.cwd())).toBe(
      join(process.cwd(), 'node_modules', 'electron'),
    );
  });
});

describe('appDataDir', () => {
  it('is the desktop app’s folder: RAFTDECK_DATA, else raftdeck/cluster in the user’s app data', () => {
    const m = { platform: 'linux' as const, home: '/home/ada' };
    expect(appDataDir({ ...m, env: { RAFTDECK_DATA: '/srv/c' } })).toBe('/srv/c');
    expect(appDataDir({ ...m, env: {} })).toBe('/home/ada/.config/raftdeck/cluster');
    expect(appDataDir({ ...m, env: { XDG_CONFIG_HOME: '/x' } })).toBe('/x/raftdeck/cluster');
    expect(appDataDir({ platform: 'darwin', home: '/Users/ada', env: {} })).toBe(
      '/Users/ada/Library/Application Support/raftdeck/cluster',
    );
  });
});

describe('openerCommand', () => {
  it('opens the browser only where there is a display', () => {
    expect(openerCommand({ platform: 'linux', env: { DISPLAY: ':0' } }, 'http://x')).toEqual([
      'xdg-open',
      ['http://x'],
    ]);
    expect(openerCommand({ platform: 'linux', env: {} }, 'http://x')).toBeUndefined();
    expect(openerCommand({ platform: 'darwin', env: {} }, 'http://x')).toEqual([
      'open',
      ['http://x'],
    ]);
  });
});

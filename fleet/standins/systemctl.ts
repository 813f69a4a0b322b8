// Stand-in `systemctl` (the per-host wrapper in /usr/local/sbin comes before /usr/bin): the kubelet
// is the only unit a fleet host has. start/restart/stop drive the kubelet stand-in daemon; texts and
// exit codes of other units are systemctl's (systemd's src/systemctl, LSB exit codes: 3 = inactive,
// 4 = no such unit for status, 5 = not installed/loaded).
import * as fs from 'node:fs';
import { daemonRunning, startDaemon, stopDaemon } from './daemons';
import { hostEnv } from './env';

const UNIT_FILE = '/lib/systemd/system/kubelet.service';
const WANTS = '/etc/systemd/system/multi-user.target.wants/kubelet.service';
const VERBS = [
  'start',
  'restart',
  'try-restart',
  'reload-or-restart',
  'stop',
  'is-active',
  'is-enabled',
  'enable',
  'disable',
  'status',
  'daemon-reload',
];

const unitName = (u: string): string => (u.includes('.') ? u : `${u}.service`);
const isKubelet = (u: string): boolean => unitName(u) === 'kubelet.service';
const say = (fd: 1 | 2, text: string): void => void fs.writeSync(fd, text + '\n');

function main(): number {
  hostEnv();
  const argv = process.argv.slice(2);
  const flags = argv.filter((a) => a.startsWith('-'));
  const [verb, ...units] = argv.filter((a) => !a.startsWith('-'));
  const quiet = flags.includes('-q') || flags.includes('--quiet');
  if (verb === undefined) return (say(2, 'Too few arguments.'), 1);
  if (!VERBS.includes(verb)) return (say(2, `Unknown command verb ${verb}.`), 1);
  const root = process.getuid?.() === 0;
  const mutating = verb !== 'is-active' && verb !== 'is-enabled' && verb !== 'status';
  if (verb === 'daemon-reload')
    return root ? 0 : (say(2, 'Failed to reload daemon: Interactive authentication required.'), 1);
  if (!units.length) return (say(2, 'Too few arguments.'), 1);
  let code = 0;
  for (const u of units) {
    const name = unitName(u);
    const known = isKubelet(u);
    switch (verb) {
      case 'is-active': {
        const active = known && daemonRunning('kubelet');
        if (!quiet) say(1, active ? 'active' : 'inactive');
        if (!active) code = 3;
        continue;
      }
      case 'is-enabled': {
        const enabled = known && fs.existsSync(WANTS);
        if (!known) say(2, `Failed to get unit file state for ${name}: No such file or directory`);
        else if (!quiet) say(1, enabled ? 'enabled' : 'disabled');
        if (!enabled) code = known ? 1 : 4;
        continue;
      }
      case 'status':
        if (!known) {
          say(2, `Unit ${name} could not be found.`);
          code = 4;
          continue;
        }
        say(
          1,
          `● kubelet.service - kubelet: The Kubernetes Node Agent\n     Loaded: loaded (${UNIT_FILE}; ${fs.existsSync(WANTS) ? 'enabled' : 'disabled'}; preset: enabled)\n     Active: ${daemonRunning('kubelet') ? 'active (running)' : 'inactive (dead)'}`,
        );
        if (!daemonRunning('kubelet')) code = 3;
        continue;
    }
    if (mutating && !root) {
      say(
        2,
        `Failed to ${verb} ${name}: Interactive authentication required.\nSee system logs and 'systemctl status ${name}' for details.`,
      );
      code = 1;
      continue;
    }
    if (!known) {
      if (verb === 'enable' || verb === 'disable') say(2, `Failed to ${verb} unit: Unit file ${name} does not exist.`);
      else say(2, `Failed to ${verb} ${name}: Unit ${name} ${verb === 'stop' ? 'not loaded' : 'not found'}.`);
      code = verb === 'enable' || verb === 'disable' ? 1 : 5;
      continue;
    }
    if (verb === 'enable') {
      if (!fs.existsSync(WANTS)) {
        fs.mkdirSync('/etc/systemd/system/multi-user.target.wants', { recursive: true });
        fs.symlinkSync(UNIT_FILE, WANTS);
        say(2, `Created symlink ${WANTS} → ${UNIT_FILE}.`);
      }
      if (flags.includes('--now')) startDaemon('kubelet');
    } else if (verb === 'disable') {
      if (fs.existsSync(WANTS) || fs.lstatSync(WANTS, { throwIfNoEntry: false })) {
        fs.rmSync(WANTS, { force: true });
        say(2, `Removed "${WANTS}".`);
      }
      if (flags.includes('--now')) stopDaemon('kubelet');
    } else if (verb === 'stop') stopDaemon('kubelet');
    else if (verb === 'start') startDaemon('kubelet');
    else if (verb !== 'try-restart' || daemonRunning('kubelet')) {
      // restart: a new kubelet process (which (re)starts the node's static pods).
      stopDaemon('kubelet');
      startDaemon('kubelet');
    }
  }
  return code;
}

process.exit(main());

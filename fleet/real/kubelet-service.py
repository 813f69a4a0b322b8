#!/usr/bin/python3
# The kubelet's service on a fleet node, in place of systemd, for the one unit kubeadm needs: it reads
# kubelet.service and its drop-ins as systemd does (/usr/lib/systemd/system/kubelet.service.d, then
# /etc/systemd/system/kubelet.service.d, by file name, a later file of the same name in /etc
# replacing it; "ExecStart=" empty resets the list; Environment= and EnvironmentFile=, "-" for an
# optional file; $VAR and ${VAR} expanded, unset ones to nothing, as systemd.service(5) says), runs
# the ExecStart while the unit is wanted (run/kubelet.wanted, see systemctl.sh), and restarts it when
# it exits, after RestartSec (capped at 2 s: a restart asked for should not wait). So both kubeadm's
# drop-in and the external-etcd guide's override run as on a real node.
import os, re, shlex, signal, subprocess, sys, time

RUN = '/run/kha-node/host/run'
LOG = '/run/kha-node/host/logs/kubelet.log'
UNIT = '/usr/lib/systemd/system/kubelet.service'
DROPIN_DIRS = ['/usr/lib/systemd/system/kubelet.service.d', '/etc/systemd/system/kubelet.service.d']


def unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def service_lines():
    files = [UNIT]
    dropins = {}
    for d in DROPIN_DIRS:
        if os.path.isdir(d):
            for name in os.listdir(d):
                if name.endswith('.conf'):
                    dropins[name] = os.path.join(d, name)
    files += [dropins[n] for n in sorted(dropins)]
    section = None
    for f in files:
        with open(f) as fh:
            for raw in fh:
                line = raw.strip()
                if not line or line.startswith('#') or line.startswith(';'):
                    continue
                if line.startswith('['):
                    section = line
                    continue
                if section == '[Service]' and '=' in line:
                    key, value = line.split('=', 1)
                    yield key.strip(), value.strip()


def command():
    env, exec_start, restart_sec = {}, [], 10.0
    for key, value in service_lines():
        if key == 'Environment':
            for word in shlex.split(value):
                if '=' in word:
                    k, v = word.split('=', 1)
                    env[k] = v
        elif key == 'EnvironmentFile':
            optional = value.startswith('-')
            path = value[1:] if optional else value
            try:
                with open(path) as fh:
                    for raw in fh:
                        raw = raw.strip()
                        if raw and not raw.startswith('#') and '=' in raw:
                            k, v = raw.split('=', 1)
                            env[k.strip()] = unquote(v)
            except FileNotFoundError:
                if not optional:
                    raise
        elif key == 'ExecStart':
            exec_start = [] if value == '' else exec_start + [value]
        elif key == 'RestartSec':
            restart_sec = float(re.sub(r's$', '', value) or 10)
    if not exec_start:
        raise SystemExit('kubelet.service has no ExecStart')
    # A word that is just $VAR splits into the variable's words; ${VAR} inside a word does not.
    argv = []
    for word in shlex.split(exec_start[-1]):
        m = re.fullmatch(r'\$(\w+)', word)
        if m:
            argv += env.get(m.group(1), '').split()
        else:
            argv.append(re.sub(r'\$\{(\w+)\}', lambda x: env.get(x.group(1), ''), word))
    return argv, min(restart_sec, 2.0)


def log(msg):
    with open(LOG, 'a') as fh:
        fh.write(time.strftime('%Y-%m-%dT%H:%M:%SZ ', time.gmtime()) + 'kubelet-service: ' + msg + '\n')


while True:
    if not os.path.exists(f'{RUN}/kubelet.wanted'):
        time.sleep(0.5)
        continue
    try:
        argv, restart_sec = command()
    except Exception as e:  # a broken drop-in: systemd would refuse the unit; say why and wait
        log(f'cannot read the unit: {e}')
        time.sleep(2)
        continue
    with open(LOG, 'a') as out:
        child = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    with open(f'{RUN}/kubelet.pid', 'w') as fh:
        fh.write(str(child.pid))
    code = child.wait()
    try:
        os.remove(f'{RUN}/kubelet.pid')
    except FileNotFoundError:
        pass
    log(f'{" ".join(argv[:2])} exited ({code})')
    if os.path.exists(f'{RUN}/kubelet.restart'):
        os.remove(f'{RUN}/kubelet.restart')
        continue
    time.sleep(restart_sec)

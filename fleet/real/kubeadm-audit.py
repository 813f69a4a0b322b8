#!/usr/bin/python3
# /usr/local/bin/kubeadm on a real fleet node, ahead of the real /usr/bin/kubeadm on PATH (and on
# sudo's secure_path): records each invocation, like an audit log, in the fleet's per-host
# kubeadm-invocations.jsonl (fleet/invocations.ts reads it: a start record, and an end record with
# the exit code), then runs the real kubeadm with the same arguments, streams and signals. Tests
# assert from it that no kubeadm command ran twice or overlapped another.
import json, os, signal, subprocess, sys, time

LOG = '/run/kha-node/host/logs/kubeadm-invocations.jsonl'


def record(entry):
    fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, (json.dumps(entry) + '\n').encode())
    finally:
        os.close(fd)


record({'pid': os.getpid(), 'argv': sys.argv[1:], 'start': int(time.time() * 1000)})
child = subprocess.Popen(['/usr/bin/kubeadm', *sys.argv[1:]])
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, lambda sig, _frame: child.send_signal(sig))
code = child.wait()
code = 128 - code if code < 0 else code
record({'pid': os.getpid(), 'end': int(time.time() * 1000), 'exitCode': code})
sys.exit(code)

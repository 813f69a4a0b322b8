// Redaction of whole outputs: real kubeadm output (test/fixtures/kubeadm), PEM private keys of each
// kind made by ssh-keygen and openssl, kubeconfigs and Secrets; the streaming redactor at every
// chunk boundary; and the on-host GNU sed program, generated from the same table, run through the
// real sed on the same texts: both must give byte-identical results.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact, sedScript, StreamRedactor, toJs } from '../../src/common/redact';
import { MASK, RULES } from '../../src/common/redact-rules';
import { REDACT_SED } from '../../src/ssh/journal-scripts';
import { fixture } from '../kubeadm/fixtures';

const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';
const CERT_KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const CA_HASH = '8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d';
const DIGEST = 'sha256:' + 'e0'.repeat(32);

function sed(text: string): string {
  return execFileSync('sed', ['-u', '-E', sedScript()], { input: text, env: { ...process.env, LC_ALL: 'C' } }).toString(
    'utf8',
  );
}

/** Every way of cutting `text` in two, plus a one-character-at-a-time feed. */
function streamed(text: string, cuts: number[]): string {
  const r = new StreamRedactor();
  let out = '';
  let at = 0;
  for (const c of [...cuts, text.length]) {
    out += r.push(text.slice(at, c));
    at = c;
  }
  return out + r.end();
}

const PEMS: Record<string, string> = {};
const CERT_PEM_LINES: string[] = [];
before(() => {
  const dir = mkdtempSync(join(tmpdir(), 'kha-redact-'));
  try {
    const run = (cmd: string, args: string[]) =>
      execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    PEMS.OPENSSH = readFileSync(join(dir, 'k'), 'utf8');
    PEMS.RSA = run('openssl', ['genrsa', '-traditional', '2048']);
    PEMS.EC = run('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout']);
    PEMS.PKCS8 = run('openssl', ['genpkey', '-algorithm', 'ed25519']);
    PEMS.ENCRYPTED = run('openssl', ['genpkey', '-algorithm', 'ed25519', '-aes-128-cbc', '-pass', 'pass:x']);
    run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ed25519',
      '-nodes',
      '-keyout',
      join(dir, 'c.key'),
      '-out',
      join(dir, 'c.crt'),
      '-subj',
      '/CN=kubernetes',
      '-days',
      '1',
    ]);
    CERT_PEM_LINES.push(...readFileSync(join(dir, 'c.crt'), 'utf8').trim().split('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(PEMS.RSA, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.match(PEMS.ENCRYPTED, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
});

function bodies(pem: string): string[] {
  return pem
    .trim()
    .split('\n')
    .slice(1, -1)
    .map((l) => l.trim())
    .filter((l) => l.length >= 8);
}

function kubeconfig(): string {
  const certB64 = Buffer.from(CERT_PEM_LINES.join('\n') + '\n').toString('base64');
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${certB64}`,
    '    server: https://lb.example.com:6443',
    '  name: kubernetes',
    'users:',
    '- name: kubernetes-admin',
    '  user:',
    `    client-certificate-data: ${certB64}`,
    `    client-key-data: ${Buffer.from(PEMS.RSA).toString('base64')}`,
    '',
  ].join('\n');
}

function tlsSecret(): string {
  return [
    'apiVersion: v1',
    'kind: Secret',
    'type: kubernetes.io/tls',
    'metadata:',
    '  name: front',
    'data:',
    `  tls.crt: ${Buffer.from(CERT_PEM_LINES.join('\n')).toString('base64')}`,
    `  tls.key: ${Buffer.from(PEMS.EC).toString('base64')}`,
    `  other: ${Buffer.from(PEMS.PKCS8).toString('base64')}`,
    '',
  ].join('\n');
}

describe('redact: whole outputs', () => {
  it('kubeadm init --upload-certs output: tokens and certificate keys masked, CA hash readable', () => {
    const text = fixture('init-1.28-upload-certs.stdout.txt');
    assert.ok(text.includes(TOKEN) && text.includes(CERT_KEY) && text.includes(CA_HASH));
    const out = redact(text);
    for (const secret of [TOKEN, CERT_KEY, 'ibkwbtflmj6w8qmg', CERT_KEY.slice(0, 32)])
      assert.ok(!out.includes(secret), secret);
    assert.match(out, /\[upload-certs\] Using certificate key:\n\*\*\*\n/);
    assert.match(out, /\[bootstrap-token\] Using token: \*\*\*\n/);
    assert.match(
      out,
      /--token \*\*\* \\\n\t--discovery-token-ca-cert-hash sha256:8817bb69[0-9a-f]{56} \\\n\t--control-plane --certificate-key \*\*\*\n/,
    );
    // Ordinary lines survive untouched; only the secret lines change.
    const changed = text.split('\n').filter((l, i) => out.split('\n')[i] !== l);
    assert.ok(
      changed.every((l) => l.includes(TOKEN) || l.includes(CERT_KEY)),
      changed.join('\n'),
    );
  });

  it('every kubeadm fixture: no token or certificate key survives, CA hashes do', () => {
    for (const name of readdirSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubeadm'))) {
      const text = fixture(name);
      const out = redact(text);
      for (const t of text.match(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g) ?? []) assert.ok(!out.includes(t), `${name}: ${t}`);
      for (const k of text.match(/(?<=certificate-key[ =]|^)[0-9a-f]{64}$/gm) ?? [])
        assert.ok(!out.includes(k), `${name}: ${k}`);
      for (const h of text.match(/sha256:[0-9a-f]{64}/g) ?? [])
        assert.ok(out.includes(h), `${name}: CA hash ${h} must stay readable`);
    }
  });

  it('PEM private keys of each kind: every body line masked, the block kept as one *** line', () => {
    for (const [kind, pem] of Object.entries(PEMS)) {
      const out = redact(`before\n${pem}after\n`);
      for (const b of bodies(pem)) assert.ok(!out.includes(b), `${kind}: ${b}`);
      const begin = pem.split('\n')[0];
      const end = pem.trim().split('\n').pop()!;
      assert.equal(out, `before\n${begin}\n${MASK}\n${end}\nafter\n`, kind);
    }
  });

  it('an indented key in YAML, a one-line JSON key, a cut-off block and a tail that starts mid-block', () => {
    const indented = PEMS.RSA.trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
    assert.equal(
      redact(`key: |\n${indented}\nnext: 1`),
      `key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    ${MASK}\n    -----END RSA PRIVATE KEY-----\nnext: 1`,
    );
    const json = JSON.stringify({ key: PEMS.EC, ok: 1 });
    assert.equal(redact(json), `{"key":"-----BEGIN EC PRIVATE KEY-----${MASK}-----END EC PRIVATE KEY-----\\n","ok":1}`);
    const cut = PEMS.OPENSSH.split('\n').slice(0, 3).join('\n');
    assert.equal(redact(`x\n${cut}`), `x\n-----BEGIN OPENSSH PRIVATE KEY-----\n${MASK}`);
    const tailOnly = PEMS.RSA.trim().split('\n').slice(5).join('\n');
    const out = redact(`${tailOnly}\ndone`);
    for (const b of bodies(PEMS.RSA)) assert.ok(!out.includes(b), b);
    assert.equal(out, `${MASK}\n-----END RSA PRIVATE KEY-----\ndone`);
    // Also after an earlier, complete block (whose body lines were dropped).
    const both = redact(`${PEMS.EC}ok line\n${tailOnly}\n`);
    for (const b of [...bodies(PEMS.EC), ...bodies(PEMS.RSA)]) assert.ok(!both.includes(b), b);
    assert.equal(
      both,
      `-----BEGIN EC PRIVATE KEY-----\n${MASK}\n-----END EC PRIVATE KEY-----\nok line\n${MASK}\n-----END RSA PRIVATE KEY-----\n`,
    );
  });

  it('certificates, CA hashes and image digests stay readable', () => {
    const cert = CERT_PEM_LINES.join('\n');
    const text =
      `${cert}\nimage: registry.k8s.io/kube-apiserver@${DIGEST}\n` +
      `kubeadm join lb:6443 --discovery-token-ca-cert-hash sha256:${CA_HASH} --discovery-token-unsafe-skip-ca-verification\n` +
      `caCertHashes:\n- sha256:${CA_HASH}\n`;
    assert.equal(redact(text), text);
  });

  it('kubeconfig client-key-data and Secret tls.key are masked, certificate data is not', () => {
    const kc = kubeconfig();
    const out = redact(kc);
    assert.match(out, /\n    client-key-data: \*\*\*\n/);
    assert.ok(out.includes(kc.split('\n')[3]), 'certificate-authority-data stays');
    assert.ok(out.includes(kc.split('\n')[9]), 'client-certificate-data stays');
    const sec = redact(tlsSecret());
    assert.match(sec, /\n  tls\.key: \*\*\*\n  other: \*\*\*\n/);
    assert.match(sec, /\n  tls\.crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t/);
  });

  it('flag values in both spellings; following flags and continuations kept', () => {
    assert.equal(
      redact('kubeadm join x --token=abc --discovery-token-ca-cert-hash sha256:00 --control-plane'),
      'kubeadm join x --token=*** --discovery-token-ca-cert-hash sha256:00 --control-plane',
    );
    assert.equal(
      redact('tool --password hunter2 --client-secret=s3 --db-passwd "a b" -v'),
      'tool --password *** --client-secret=*** --db-passwd *** -v',
    );
    assert.equal(
      redact('kubeadm token create --print-join-command --ttl 2h --token-ttl 3h'),
      'kubeadm token create --print-join-command --ttl 2h --token-ttl 3h',
    );
    assert.equal(
      redact('kubeadm join x --token \\\n  --discovery-token abc'),
      'kubeadm join x --token \\\n  --discovery-token ***',
    );
    assert.equal(
      redact('--control-plane --certificate-key <value withheld>'),
      '--control-plane --certificate-key <value withheld>',
    );
    assert.equal(
      redact(`kubeadm init phase upload-certs --upload-certs --certificate-key=${CERT_KEY}`),
      'kubeadm init phase upload-certs --upload-certs --certificate-key=***',
    );
  });

  it('YAML/JSON/env secret fields masked, quotes kept', () => {
    const yaml = `bootstrapTokens:\n- token: "abcdef.0123456789abcdef"\n  ttl: 2h\ncontrolPlane:\n  certificateKey: "${CERT_KEY}"\ntlsBootstrapToken: plain-value\n`;
    assert.equal(
      redact(yaml),
      'bootstrapTokens:\n- token: "***"\n  ttl: 2h\ncontrolPlane:\n  certificateKey: "***"\ntlsBootstrapToken: ***\n',
    );
    assert.equal(redact('{"password": "p@ss", "user": "bob"}'), '{"password": "***", "user": "bob"}');
    assert.equal(redact('export ETCD_PASSWORD=x1 FOO=bar'), 'export ETCD_PASSWORD=*** FOO=bar');
    assert.equal(redact(`certificate-key: '${CERT_KEY}'`), "certificate-key: '***'");
    assert.equal(
      redact('taints:\n- key: node-role.kubernetes.io/control-plane\n  effect: NoSchedule'),
      'taints:\n- key: node-role.kubernetes.io/control-plane\n  effect: NoSchedule',
    );
  });

  it('standalone tokens and certificate keys (not CA hashes, digests, paths), Bearer and URL passwords; other hex stays', () => {
    assert.equal(redact(`token is ${TOKEN}.`), 'token is ***.');
    assert.equal(redact(`  ${CERT_KEY}\n`), '  ***\n');
    assert.equal(redact(`key ${CERT_KEY} failed`), 'key *** failed');
    const kept = `sha256:${CA_HASH} @${DIGEST} /run/containerd/io.containerd.runtime.v2.task/k8s.io/${CA_HASH}/rootfs containerd://${CA_HASH} ${CA_HASH}0 ${CA_HASH}g`;
    assert.equal(redact(kept), kept);
    assert.equal(redact('Authorization: Bearer eyJhbGciOi.abc-def_1'), 'Authorization: Bearer ***');
    assert.equal(redact('https://etcd:pa55@10.0.0.1:2379/v3'), 'https://etcd:***@10.0.0.1:2379/v3');
  });

  it('stays linear on 256 KiB of adversarial text', () => {
    const n = 256 * 1024;
    for (const text of [
      '-'.repeat(n),
      ` --${'a-'.repeat(n / 2)}`,
      'a '.repeat(n / 2),
      ` ${'tokentoken'.repeat(n / 10)}`,
      'abcdef.'.repeat(n / 7),
      '"'.repeat(n),
      `x: ${'QUJD'.repeat(n / 4)}`,
    ]) {
      const t = Date.now();
      redact(text);
      assert.ok(Date.now() - t < 1000, `${text.slice(0, 12)}...: ${Date.now() - t} ms`);
    }
  });

  it('leaves ordinary log text alone', () => {
    const text = '[certs] Generating "ca" certificate and key\n[kubelet-start] Starting the kubelet\nexit code 3';
    assert.equal(redact(text), text);
  });
});

describe('redact: streaming with a carry-over buffer', () => {
  it('gives the whole-text result for every single cut, inside PEM blocks and tokens', () => {
    const text = `a ${TOKEN} b\n${PEMS.RSA.split('\n').slice(0, 4).join('\n')}\n-----END RSA PRIVATE KEY-----\n--certificate-key ${CERT_KEY}\ntail`;
    const want = redact(text);
    for (let c = 0; c <= text.length; c++) assert.equal(streamed(text, [c]), want, `cut at ${c}`);
    assert.equal(
      streamed(
        text,
        [...text].map((_, i) => i),
      ),
      want,
      'one character at a time',
    );
  });

  it('a whole kubeconfig and every PEM kind in 7-byte chunks', () => {
    const text = [kubeconfig(), ...Object.values(PEMS), fixture('init-1.28-upload-certs.stdout.txt')].join('');
    const cuts = Array.from({ length: Math.floor(text.length / 7) }, (_, i) => (i + 1) * 7);
    const out = streamed(text, cuts);
    assert.equal(out, redact(text));
    for (const pem of Object.values(PEMS)) for (const b of bodies(pem)) assert.ok(!out.includes(b), b);
  });

  it('a very long line without newline is cut at maxLine', () => {
    const r = new StreamRedactor(10);
    assert.equal(r.push('0123456789abc'), '0123456789\n');
    assert.equal(r.end(), 'abc');
  });
});

describe('redact: the on-host GNU sed program agrees', () => {
  it('journal-scripts uses the generated program', () => {
    assert.equal(REDACT_SED, sedScript());
    assert.equal(RULES.length, REDACT_SED.split('\n').filter((l) => l.startsWith('s/') && l.endsWith('/g')).length - 1);
  });

  it('same bytes as redact() on every kubeadm fixture, every PEM kind, kubeconfig and Secret', () => {
    const texts: [string, string][] = readdirSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubeadm')).map(
      (n) => [n, fixture(n)],
    );
    texts.push(
      ['pems', Object.values(PEMS).join('between\n')],
      ['kubeconfig', kubeconfig()],
      ['secret', tlsSecret()],
      [
        'indented',
        PEMS.RSA.split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      ],
      ['json', JSON.stringify({ key: PEMS.EC })],
      ['cut', PEMS.OPENSSH.split('\n').slice(0, 3).join('\n') + '\n'],
      [
        'mixed',
        'export ETCD_PASSWORD=x1\n{"password": "p"}\n--token=abc --db-passwd "a b"\nAuthorization: Bearer abc\nhttps://u:p@h/\n',
      ],
    );
    // Whole lines: after a PEM block GNU sed may add the newline a last line lacks (its x command
    // swaps that flag with the hold space); journaled output is compared as lines anyway.
    for (const [name, t] of texts) {
      const text = t.endsWith('\n') ? t : `${t}\n`;
      assert.equal(sed(text), redact(text), name);
      // Journaled output is redacted on the host, then again by the worker's log: no change the second time.
      assert.equal(redact(sed(text)), sed(text), `${name}: idempotent`);
    }
  });

  it('each rule example: JavaScript and sed give the same line', () => {
    for (const r of RULES) {
      const input = r.example.split(' -> ')[0];
      assert.doesNotThrow(() => new RegExp(toJs(r.pattern)), r.name);
      assert.equal(sed(`${input}\n`), `${redact(input)}\n`, r.name);
      assert.notEqual(redact(input), input, `${r.name}: example is masked`);
    }
  });
});

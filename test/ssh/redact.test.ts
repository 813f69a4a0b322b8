// redact() on real kubeadm output (epilogue of kubeadm init, kubeadm's sources) and on
// the other secret shapes the activities handle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redact } from '../../src/common/redact';

const TOKEN = '38tjlt.ibkwbtflmj6w8qmg';
const CERT_KEY = 'f9ea00c50ef12a386949dfb84b3abb2aa1053cc84f3792cd4b8aa6cc42c1fd57';
const CA_HASH = '8817bb69522a72618241f20adfede139743f48403367cec3f4144b43f918b97d';

const INIT_OUTPUT = `[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace
[upload-certs] Using certificate key:
${CERT_KEY}
[mark-control-plane] Marking the node cp0 as control-plane by adding the taints [node-role.kubernetes.io/control-plane:NoSchedule]
[bootstrap-token] Using token: ${TOKEN}
[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles
[addons] Applied essential addon: CoreDNS

Your Kubernetes control-plane has initialized successfully!

To start using your cluster, you need to run the following as a regular user:

  mkdir -p $HOME/.kube
  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config

You can now join any number of the control-plane node running the following command on each as root:

  kubeadm join lb.example.com:6443 --token ${TOKEN} \\
\t--discovery-token-ca-cert-hash sha256:${CA_HASH} \\
\t--control-plane --certificate-key ${CERT_KEY}

Please note that the certificate-key gives access to cluster sensitive data, keep it secret!
As a safeguard, uploaded-certs will be deleted in two hours; If necessary, you can use
"kubeadm init phase upload-certs --upload-certs" to reload certs afterward.

Then you can join any number of worker nodes by running the following on each as root:

kubeadm join lb.example.com:6443 --token ${TOKEN} \\
\t--discovery-token-ca-cert-hash sha256:${CA_HASH} 
`;

describe('redact', () => {
  it('removes every token, certificate key and CA hash from kubeadm init output', () => {
    const out = redact(INIT_OUTPUT);
    for (const secret of [TOKEN, CERT_KEY, CA_HASH, 'ibkwbtflmj6w8qmg', CERT_KEY.slice(0, 32)]) assert.ok(!out.includes(secret), secret);
    assert.match(out, /kubeadm join lb\.example\.com:6443 --token \*\*\* \\\n\t--discovery-token-ca-cert-hash \*\*\* \\\n\t--control-plane --certificate-key \*\*\*\n/);
    assert.match(out, /\[upload-certs\] Using certificate key:\n\*\*\*\n/);
    assert.match(out, /\[bootstrap-token\] Using token: \*\*\*\n/);
    // Ordinary lines survive untouched.
    assert.match(out, /Please note that the certificate-key gives access to cluster sensitive data, keep it secret!/);
    assert.match(out, /"kubeadm init phase upload-certs --upload-certs" to reload certs afterward\./);
    assert.match(out, /sudo cp -i \/etc\/kubernetes\/admin\.conf \$HOME\/\.kube\/config/);
  });

  it('masks flag values in both spellings and keeps following flags', () => {
    assert.equal(redact('kubeadm join x --token=abc --discovery-token-ca-cert-hash sha256:00 --control-plane'),
      'kubeadm join x --token=*** --discovery-token-ca-cert-hash *** --control-plane');
    assert.equal(redact('tool --password hunter2 --client-secret=s3 --db-passwd "a b" -v'),
      'tool --password *** --client-secret=*** --db-passwd *** -v');
    assert.equal(redact('kubeadm token create --print-join-command --ttl 2h'), 'kubeadm token create --print-join-command --ttl 2h');
  });

  it('masks YAML/JSON secret fields but keeps the structure', () => {
    const yaml = 'bootstrapTokens:\n- token: "abcdef.0123456789abcdef"\n  ttl: 2h\ncontrolPlane:\n  certificateKey: "' + CERT_KEY + '"\ntlsBootstrapToken: plain-value\n';
    assert.equal(redact(yaml), 'bootstrapTokens:\n- token: "***"\n  ttl: 2h\ncontrolPlane:\n  certificateKey: "***"\ntlsBootstrapToken: ***\n');
    assert.equal(redact('{"password": "p@ss", "user": "bob"}'), '{"password": "***", "user": "bob"}');
    assert.equal(redact('export ETCD_PASSWORD=x1 FOO=bar'), 'export ETCD_PASSWORD=*** FOO=bar');
  });

  it('masks standalone tokens and 64-hex strings, not shorter hex', () => {
    assert.equal(redact(`token is ${TOKEN}.`), 'token is ***.');
    assert.equal(redact(`key=${CERT_KEY.toUpperCase()} sha ${'a'.repeat(40)}`), `key=*** sha ${'a'.repeat(40)}`);
    assert.equal(redact('Authorization: Bearer eyJhbGciOi.abc-def_1'), 'Authorization: Bearer ***');
  });

  it('masks PEM private key blocks, also when cut off', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----';
    assert.equal(redact(`before\n${pem}\nafter`), 'before\n-----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY-----\nafter');
    assert.equal(redact('-----BEGIN PRIVATE KEY-----\nMIIEv'), '-----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY-----');
    const cert = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----';
    assert.equal(redact(cert), cert);
  });

  it('leaves ordinary log text alone', () => {
    const text = '[certs] Generating "ca" certificate and key\n[kubelet-start] Starting the kubelet\nexit code 3';
    assert.equal(redact(text), text);
  });
});

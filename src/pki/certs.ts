// Certificates made with the openssl CLI (Node can parse certificates but not
// issue them): the lab's own PKI, and a new replica's etcd peer certificate
// signed by the cluster's etcd CA. EC P-256 keys keep issuing fast on small
// machines.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CertRequest, Pem } from '../domain/master-certs.js';

const run = promisify(execFile);

export interface CertPaths {
  certFile: string;
  keyFile: string;
  caFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function newKey(path: string, cwd: string): Promise<void> {
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path], cwd);
}

// VMs boot concurrently: one issuing run per file, or two would write the same key.
const inFlight = new Map<string, Promise<unknown>>();
function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = inFlight.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

/** Creates the lab CA once; returns its paths. */
export function ensureCA(pkiDir: string): Promise<{ caFile: string; caKey: string }> {
  return once(join(pkiDir, 'ca.crt'), () => makeCA(pkiDir));
}

async function makeCA(pkiDir: string): Promise<{ caFile: string; caKey: string }> {
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const caFile = join(pkiDir, 'ca.crt');
  const caKey = join(pkiDir, 'ca.key');
  if (!existsSync(caFile)) {
    await newKey(caKey, pkiDir);
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        caKey,
        '-sha256',
        '-days',
        '3650',
        '-subj',
        '/CN=kube-ha-lab-ca',
        '-out',
        caFile,
      ],
      pkiDir,
    );
  }
  return { caFile, caKey };
}

/**
 * Issues a certificate signed by the lab CA, usable as server and client
 * (etcd peers authenticate each other with the same certificate).
 */
export interface IssueOptions {
  ips?: string[];
  dns?: string[];
  clientOnly?: boolean;
  serverOnly?: boolean;
  /** Subject CN (default: the file name). */
  cn?: string;
  /** Validity (default 3650 days; `lab up --cert-days` rehearses a certificate about to expire). */
  days?: number;
}

export function issueCert(pkiDir: string, name: string, opts: IssueOptions): Promise<CertPaths> {
  return once(join(pkiDir, `${name}.crt`), () => makeCert(pkiDir, name, opts));
}

async function makeCert(pkiDir: string, name: string, opts: IssueOptions): Promise<CertPaths> {
  const { caFile, caKey } = await ensureCA(pkiDir);
  const keyFile = join(pkiDir, `${name}.key`);
  const certFile = join(pkiDir, `${name}.crt`);
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, caFile };
  const csr = join(pkiDir, `${name}.csr`);
  const ext = join(pkiDir, `${name}.ext`);
  const san = [...(opts.ips ?? []).map((ip) => `IP:${ip}`), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${opts.clientOnly ? 'clientAuth' : opts.serverOnly ? 'serverAuth' : 'serverAuth,clientAuth'}`,
      ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
    ].join('\n'),
  );
  await newKey(keyFile, pkiDir);
  await openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${opts.cn ?? name}`, '-out', csr], pkiDir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      String(opts.days ?? 3650),
      '-sha256',
    ].concat(['-extfile', ext, '-out', certFile]),
    pkiDir,
  );
  return { certFile, keyFile, caFile };
}

/**
 * A certificate and key signed by the given CA (PEM in, PEM out), with the
 * subject and usages of one of kube-up's generate-etcd-cert profiles (peer:
 * server and client auth; server; client). The CA key only ever touches a
 * private temporary directory.
 */
export async function issueWithCA(ca: Pem, req: CertRequest, days?: number): Promise<Pem> {
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-pki-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), ca.certPem, { mode: 0o600 });
    writeFileSync(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const paths = await issueCert(dir, 'leaf', {
      cn: req.cn,
      dns: req.dns,
      ips: req.ips,
      clientOnly: req.usage === 'client',
      serverOnly: req.usage === 'server',
      ...(days !== undefined ? { days } : {}),
    });
    return { certPem: readFileSync(paths.certFile, 'utf8'), keyPem: readFileSync(paths.keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The etcd certificates kube-up keeps in a control-plane VM's metadata, in
// kube-up's own places and encodings (kube-up-reference.md §2.4, §4):
//   kube-env:          ETCD_CA_KEY, ETCD_CA_CERT, ETCD_PEER_KEY, ETCD_PEER_CERT
//   kube-master-certs: ETCD_APISERVER_CA_KEY, ETCD_APISERVER_CA_CERT,
//                      ETCD_APISERVER_SERVER_KEY/_CERT, ETCD_APISERVER_CLIENT_KEY/_CERT
// Certificates are gzip-compressed then base64-encoded (util.sh
// create-etcd-certs; configure-helper.sh reads them with `base64 --decode |
// gunzip`); keys are base64 only. A new replica needs its own peer and
// apiserver↔etcd server certificates: a copy of the source's names the source,
// and etcd peers refuse it. Pure (zlib is computation, not I/O).
import { gunzipSync, gzipSync } from 'node:zlib';
import { type KubeEnv, parseKubeEnv, renderKubeEnv } from './kube-env.js';

export const KUBE_ENV_KEY = 'kube-env';
export const MASTER_CERTS_KEY = 'kube-master-certs';

export interface Pem {
  certPem: string;
  keyPem: string;
}

/** A certificate as kube-up writes it: gzip, then base64 (its value starts with `H4sI`). */
export function encodeCert(pem: string): string {
  return gzipSync(Buffer.from(pem, 'utf8')).toString('base64');
}

/** A private key as kube-up writes it: base64 of the PEM. */
export function encodeKey(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}

/**
 * configure-helper.sh's `base64 --decode | gunzip`: null when the value is
 * not gzip+base64 (a replica would boot with an empty certificate file).
 */
export function decodeCert(value: string | undefined): string | null {
  if (!value) return null;
  const raw = Buffer.from(value, 'base64');
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) return null;
  try {
    const pem = gunzipSync(raw).toString('utf8');
    return pem.includes('BEGIN CERTIFICATE') ? pem : null;
  } catch {
    return null;
  }
}

/** configure-helper.sh's `base64 --decode` of a key: null unless it gives a PEM key. */
export function decodeKey(value: string | undefined): string | null {
  if (!value) return null;
  const pem = Buffer.from(value, 'base64').toString('utf8');
  return pem.includes('PRIVATE KEY') ? pem : null;
}

/** The etcd peer material in a kube-env (create-master-etcd-auth writes it when CA cert, peer key and cert are set). */
export interface PeerMaterial {
  caPem: string | null;
  caKeyPem: string | null;
  certPem: string | null;
  keyPem: string | null;
}

export function peerMaterialOf(kubeEnv: KubeEnv): PeerMaterial {
  return {
    caPem: decodeCert(kubeEnv.ETCD_CA_CERT),
    caKeyPem: decodeKey(kubeEnv.ETCD_CA_KEY),
    certPem: decodeCert(kubeEnv.ETCD_PEER_CERT),
    keyPem: decodeKey(kubeEnv.ETCD_PEER_KEY),
  };
}

/** The apiserver↔etcd material in kube-master-certs (create-master-etcd-apiserver-auth). */
export interface ApiserverEtcdMaterial {
  caPem: string | null;
  caKeyPem: string | null;
  server: Pem | null;
  client: Pem | null;
}

const pair = (cert: string | undefined, key: string | undefined): Pem | null => {
  const certPem = decodeCert(cert);
  const keyPem = decodeKey(key);
  return certPem && keyPem ? { certPem, keyPem } : null;
};

export function apiserverEtcdMaterialOf(masterCerts: KubeEnv): ApiserverEtcdMaterial {
  return {
    caPem: decodeCert(masterCerts.ETCD_APISERVER_CA_CERT),
    caKeyPem: decodeKey(masterCerts.ETCD_APISERVER_CA_KEY),
    server: pair(masterCerts.ETCD_APISERVER_SERVER_CERT, masterCerts.ETCD_APISERVER_SERVER_KEY),
    client: pair(masterCerts.ETCD_APISERVER_CLIENT_CERT, masterCerts.ETCD_APISERVER_CLIENT_KEY),
  };
}

/** Subjects kube-up gives each certificate (generate-etcd-cert's profiles, §4.1). */
export interface CertRequest {
  cn: string;
  dns: string[];
  ips: string[];
  usage: 'peer' | 'server' | 'client';
}

/** kube-up's peer certificate: CN and DNS SAN the instance name, IP SAN 127.0.0.1 (no VM IP). */
export const peerCertRequest = (instance: string): CertRequest => ({
  cn: instance,
  dns: [instance],
  ips: ['127.0.0.1'],
  usage: 'peer',
});

/** kube-up's apiserver↔etcd server certificate: `etcd-<instance>` and 127.0.0.1. */
export const serverCertRequest = (instance: string): CertRequest => ({
  cn: `etcd-${instance}`,
  dns: [`etcd-${instance}`],
  ips: ['127.0.0.1'],
  usage: 'server',
});

/** kube-up's apiserver↔etcd client certificate: CN `client`, DNS SAN `*`. */
export const clientCertRequest = (): CertRequest => ({ cn: 'client', dns: ['*'], ips: [], usage: 'client' });

/** What a new replica's certificates need from its source's metadata. */
export type ReplicaCertNeed =
  | { kind: 'none' }
  | { kind: 'issue'; peerCA: Pem | null; apiserverCA: Pem | null }
  | { kind: 'impossible'; reason: string };

/**
 * Which certificates a clone of this source must be issued, and the CAs to
 * sign them. 'impossible' (a preflight refusal) when the source carries a
 * certificate whose CA key is missing: a copy would name the source.
 */
export function replicaCertNeed(kubeEnvText: string, masterCertsText: string | null): ReplicaCertNeed {
  const env = parseKubeEnv(kubeEnvText);
  const certs = parseKubeEnv(masterCertsText ?? '');
  let peerCA: Pem | null = null;
  if (env.ETCD_PEER_CERT || env.ETCD_PEER_KEY) {
    const p = peerMaterialOf(env);
    if (!p.caPem || !p.caKeyPem)
      return {
        kind: 'impossible',
        reason:
          'kube-env has an etcd peer certificate but no usable ETCD_CA_CERT and ETCD_CA_KEY (certificate gzip+base64, key base64): ' +
          "the new replica's own peer certificate cannot be issued (a copy of the source's names the source, and etcd peers refuse it)",
      };
    peerCA = { certPem: p.caPem, keyPem: p.caKeyPem };
  }
  let apiserverCA: Pem | null = null;
  if (certs.ETCD_APISERVER_SERVER_CERT || certs.ETCD_APISERVER_CLIENT_CERT) {
    const a = apiserverEtcdMaterialOf(certs);
    if (!a.caPem || !a.caKeyPem)
      return {
        kind: 'impossible',
        reason:
          `${MASTER_CERTS_KEY} has apiserver↔etcd certificates but no usable ETCD_APISERVER_CA_CERT and ETCD_APISERVER_CA_KEY: ` +
          "the new replica's etcd server certificate (etcd-<name>) cannot be issued",
      };
    apiserverCA = { certPem: a.caPem, keyPem: a.caKeyPem };
  }
  return peerCA || apiserverCA ? { kind: 'issue', peerCA, apiserverCA } : { kind: 'none' };
}

/** kube-env with the peer certificate and key replaced (replicate-master-instance does the same). */
export function kubeEnvWithPeerCert(kubeEnvText: string, peer: Pem): string {
  const env = parseKubeEnv(kubeEnvText);
  env.ETCD_PEER_KEY = encodeKey(peer.keyPem);
  env.ETCD_PEER_CERT = encodeCert(peer.certPem);
  return renderKubeEnv(env);
}

/** kube-master-certs with the apiserver↔etcd server and client pairs replaced. */
export function masterCertsWithApiserverEtcd(text: string, server: Pem, client: Pem): string {
  const env = parseKubeEnv(text);
  env.ETCD_APISERVER_SERVER_KEY = encodeKey(server.keyPem);
  env.ETCD_APISERVER_SERVER_CERT = encodeCert(server.certPem);
  env.ETCD_APISERVER_CLIENT_KEY = encodeKey(client.keyPem);
  env.ETCD_APISERVER_CLIENT_CERT = encodeCert(client.certPem);
  return renderKubeEnv(env);
}

/** The kube-env entries create-master writes for the etcd peer CA and a replica's peer pair. */
export function peerKubeEnvEntries(ca: Pem, peer: Pem): KubeEnv {
  return {
    ETCD_CA_KEY: encodeKey(ca.keyPem),
    ETCD_CA_CERT: encodeCert(ca.certPem),
    ETCD_PEER_KEY: encodeKey(peer.keyPem),
    ETCD_PEER_CERT: encodeCert(peer.certPem),
  };
}

/** kube-master-certs' apiserver↔etcd entries (build-kube-master-certs). */
export function apiserverEtcdEntries(ca: Pem, server: Pem, client: Pem): KubeEnv {
  return {
    ETCD_APISERVER_CA_KEY: encodeKey(ca.keyPem),
    ETCD_APISERVER_CA_CERT: encodeCert(ca.certPem),
    ETCD_APISERVER_SERVER_KEY: encodeKey(server.keyPem),
    ETCD_APISERVER_SERVER_CERT: encodeCert(server.certPem),
    ETCD_APISERVER_CLIENT_KEY: encodeKey(client.keyPem),
    ETCD_APISERVER_CLIENT_CERT: encodeCert(client.certPem),
  };
}

// etcd3's gRPC definition, precompiled for the CLI bundles (scripts/bundle.mjs).
//
// etcd3 1.1.2 loads its API when it is imported: @grpc/proto-loader parses
// proto/rpc.proto (and its imports) as text, then builds a package definition
// that encodes a descriptor proto for every message of every method, which
// only gRPC reflection servers read. ~0.15 s of CPU on every start, before the
// first call (issue 12). In the bundle, that call is replaced by
// etcdPackageDefinition() below on the JSON of the same parsed files, made
// here at build time with etcd3's own options: same services, paths and
// (de)serializers (test/build/etcd-protos.test.ts compares them with
// proto-loader's), minus the descriptors.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const etcd3 = createRequire(require.resolve('etcd3'));

/** The call etcd3/lib/connection-pool.js makes, verbatim (the package is pinned). */
export const ETCD3_LOAD_CALL =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: etcd3's source text, template literal included
  '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`, {\n' +
  '    keepCase: true,\n' +
  '    longs: String,\n' +
  '    enums: String,\n' +
  '    defaults: true,\n' +
  '    oneofs: true,\n' +
  '})';
/**
 * Its TLS credentials, made per client (one per etcd member): each makes a
 * secure context, parsing the CA, key and certificate again (~3 ms of CPU).
 * In the bundle, clients given the same files share one.
 */
export const ETCD3_SSL_CALL =
  'grpc.credentials.createSsl(credentials.rootCertificate, credentials.privateKey, credentials.certChain)';
/** Its import of proto-loader, then no longer used (with its descriptor extension, ~40 ms to load). */
export const ETCD3_LOADER_IMPORT = 'const proto_loader_1 = require("@grpc/proto-loader");';
export const ETCD3_LOAD_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** rpc.proto and its imports, parsed as etcd3 parses them, as protobufjs JSON. */
export function etcdRpcJson() {
  const util = etcd3('@grpc/proto-loader/build/src/util.js');
  const root = util.loadProtosWithOptionsSync(etcd3.resolve('etcd3/proto/rpc.proto'), ETCD3_LOAD_OPTIONS);
  return root.toJSON();
}

/**
 * The services of what @grpc/proto-loader's fromJSON(json, options) returns,
 * as @grpc/grpc-js's loadPackageDefinition reads them to make clients.
 * Self-contained: its source is copied into the bundle.
 */
export function etcdPackageDefinition(json, options, Protobuf, camelCase) {
  const root = Protobuf.Root.fromJSON(json);
  root.resolveAll();
  const serializer = (cls) => (arg) => {
    if (Array.isArray(arg)) {
      throw new Error(
        `Failed to serialize message: expected object with ${cls.name} structure, got array instead`,
      );
    }
    return cls.encode(cls.fromObject(arg)).finish();
  };
  const deserializer = (cls) => (buf) => cls.toObject(cls.decode(buf), options);
  const def = {};
  const walk = (ns, prefix) => {
    for (const obj of ns.nestedArray) {
      const name = prefix ? `${prefix}.${obj.name}` : obj.name;
      if (obj instanceof Protobuf.Service) {
        const service = {};
        for (const m of obj.methodsArray) {
          const req = m.resolvedRequestType;
          const res = m.resolvedResponseType;
          service[m.name] = {
            path: `/${name}/${m.name}`,
            requestStream: !!m.requestStream,
            responseStream: !!m.responseStream,
            requestSerialize: serializer(req),
            requestDeserialize: deserializer(req),
            responseSerialize: serializer(res),
            responseDeserialize: deserializer(res),
            originalName: camelCase(m.name),
          };
        }
        def[name] = service;
      } else if (!(obj instanceof Protobuf.Type) && !(obj instanceof Protobuf.Enum) && obj.nestedArray) {
        walk(obj, name);
      }
    }
  };
  walk(root, '');
  return def;
}

/**
 * Appended to etcd3's connection pool: createSsl's secure context made once
 * per CA, key and certificate. Each client still gets credentials of its own
 * (a check of the server's name that is Node's default, but not the same
 * function): grpc-js shares a connection between channels whose credentials
 * are equal, and a client made anew after a failure must dial anew, as before.
 */
const SHARED_SSL = `const __kubeHaSsl = new Map();
function __kubeHaSharedSsl(grpc, c) {
  const key = [c.rootCertificate, c.privateKey, c.certChain].map((b) => (b ? b.toString('base64') : '')).join(' ');
  const first = __kubeHaSsl.get(key);
  if (!first) {
    const made = grpc.credentials.createSsl(c.rootCertificate, c.privateKey, c.certChain);
    __kubeHaSsl.set(key, made);
    return made;
  }
  const { checkServerIdentity } = require('node:tls');
  return grpc.credentials.createFromSecureContext(first.secureContext, {
    checkServerIdentity: (host, cert) => checkServerIdentity(host, cert),
  });
}`;

/** esbuild plugin: etcd3's connection pool with the precompiled definition. */
export function etcdProtosPlugin() {
  return {
    name: 'etcd-protos',
    setup(b) {
      b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
        const src = readFileSync(args.path, 'utf8');
        if (![ETCD3_LOAD_CALL, ETCD3_LOADER_IMPORT, ETCD3_SSL_CALL].every((s) => src.includes(s))) {
          throw new Error(`${args.path}: etcd3's proto loading changed; update scripts/etcd-protos.mjs`);
        }
        const json = JSON.stringify(JSON.stringify(etcdRpcJson()));
        const contents =
          src
            .replace(ETCD3_LOADER_IMPORT, '')
            .replace(
              ETCD3_LOAD_CALL,
              `__kubeHaEtcdPackageDefinition(JSON.parse(${json}), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }, require('protobufjs'), require('lodash.camelcase'))`,
            )
            .replace(ETCD3_SSL_CALL, `__kubeHaSharedSsl(grpc, credentials)`) +
          `\n// scripts/etcd-protos.mjs: one secure context per set of TLS files\n${SHARED_SSL}\n` +
          `\n// scripts/etcd-protos.mjs\nfunction __kubeHaEtcdPackageDefinition${etcdPackageDefinition
            .toString()
            .slice('function etcdPackageDefinition'.length)}\n`;
        return { contents, loader: 'js' };
      });
    },
  };
}

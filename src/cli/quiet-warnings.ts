// grpc-js passes etcd's IP address as the TLS server name, and Node warns about
// that (DEP0123) once per process. Members are addressed by IP on GCE, so the
// warning is noise to an operator, and would garble the console's screen.
const emit = process.emitWarning.bind(process);

process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const opts = rest[0];
  const code = typeof opts === 'object' && opts !== null ? (opts as { code?: string }).code : rest[1];
  if (code === 'DEP0123') return;
  (emit as (...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

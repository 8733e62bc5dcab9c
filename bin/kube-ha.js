#!/usr/bin/env -S node --no-memory-reducer
// --no-memory-reducer: on an idle console V8's memory reducer ran a full GC
// of the main heap every ~10 s to give a few MB back, a large part of the
// console's idle CPU (npm run bench console). The console is long-lived and
// mostly idle: CPU matters more there than those MB.
// Thin launcher: the TypeScript sources are compiled to dist/ by `npm ci`
// (prepare) or `npm run build`.

// React's development build costs several times the CPU of its production
// build on every redraw; a user of the tool is not developing React.
process.env.NODE_ENV ??= 'production';

const { main } = await import('../dist/cli/main.js');

// Exit as soon as the command is done: a channel to a frozen etcd member can
// keep the event loop alive long after its call hit its deadline. (stdout and
// stderr are synchronous for files, pipes and terminals on Linux.)
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`kube-ha: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

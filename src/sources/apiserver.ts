// Moved to src/net/apiserver.ts (the lab probes apiservers too, and the lab
// does not import src/sources). This re-export only keeps src/lab/lb-proxy.ts
// compiling until it imports ../net/apiserver.js; delete it then.
export { APISERVER_PORT, apiserverURL, probeApiserver } from '../net/apiserver.js';

import { startBerth } from '/work/wt-validate/dist/src/cli/run.js';
try { await startBerth({ config: '/work/wt-validate/examples/jupyterhub/user-scheduler.yaml', kubeconfig: '/tmp/probe/ok.yaml', bindAddress: '127.0.0.1', port: 18999, logLevel: 'info', bindConcurrency: 4, leaderElect: false }); } catch (e) { console.log('caught', e.message); }
setTimeout(() => { console.log(process._getActiveHandles().map(h => h.constructor.name + (h._idleTimeout ? ":" + h._idleTimeout : "")), process._getActiveRequests?.().length); }, 100);

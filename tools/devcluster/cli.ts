// `npm run cluster -- --nodes 3`: a throwaway control plane with N fake nodes (kept Ready by kwok) until Ctrl-C.
// `--controller-manager` adds kube-controller-manager (PV controllers) and the test provisioner, with a
// WaitForFirstConsumer StorageClass, so claims can go through the volume-binding handshake by hand.
import { StorageV1Api } from '@kubernetes/client-node';
import { Command, InvalidArgumentError } from 'commander';
import { startControllerManager } from './controllerManager.js';
import { startControlPlane, type ControlPlane } from './controlPlane.js';
import { startKwok, type KwokHandle } from './kwok.js';
import { createFakeNodes } from './nodes.js';
import { DEFAULT_PROVISIONER_NAME, startProvisioner } from './provisioner.js';

/** The StorageClass `--controller-manager` creates for the test provisioner. */
const DEV_STORAGE_CLASS = 'berth-local-path';

function positiveInt(value: string): number {
  const n = Number.parseInt(value, 10);
  if (!Number.isInteger(n) || n < 0 || String(n) !== value.trim()) throw new InvalidArgumentError('not a number >= 0');
  return n;
}

interface CliOptions {
  nodes: number;
  cpu: string;
  memory: string;
  pods: string;
  kwok: boolean;
  keepDir: boolean;
  controllerManager: boolean;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('berth-devcluster')
    .description('Start a local Kubernetes control plane (etcd + kube-apiserver) with fake nodes, until Ctrl-C.')
    .option('-n, --nodes <count>', 'number of fake nodes', positiveInt, 3)
    .option('--cpu <quantity>', 'cpu per node', '4')
    .option('--memory <quantity>', 'memory per node', '16Gi')
    .option('--pods <count>', 'pods per node', '110')
    .option('--no-kwok', 'do not run kwok (nodes are not heartbeated, bound pods stay Pending)')
    .option('--keep-dir', 'keep the temp dir (certs, logs, etcd data) after stopping', false)
    .option(
      '--controller-manager',
      `also run kube-controller-manager (PersistentVolume controllers) and the test provisioner ${DEFAULT_PROVISIONER_NAME}, with StorageClass ${DEV_STORAGE_CLASS} (WaitForFirstConsumer)`,
      false,
    )
    .parse();
  const opts = program.opts<CliOptions>();

  let cp: ControlPlane | undefined;
  let kwok: KwokHandle | undefined;
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write('\nstopping control plane...\n');
    await kwok?.stop();
    await cp?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    cp = await startControlPlane({ keepDir: opts.keepDir });
    const names = Array.from({ length: opts.nodes }, (_, i) => `kwok-node-${i}`);
    await createFakeNodes(
      cp.kubeConfig,
      names.map((name) => ({ name, cpu: opts.cpu, memory: opts.memory, pods: opts.pods })),
    );
    if (opts.kwok) kwok = await startKwok({ kubeconfigPath: cp.kubeconfigPath, binaries: cp.binaries, dir: cp.dir });
    if (opts.controllerManager) await startVolumeControllers(cp);
  } catch (err) {
    process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    await shutdown(1);
    return;
  }

  process.stdout.write(readyMessage(cp, opts));
  // Stay alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

/** kube-controller-manager and the provisioner (both stopped by cp.stop()), and a StorageClass for the latter. */
async function startVolumeControllers(cp: ControlPlane): Promise<void> {
  await startControllerManager(cp);
  await startProvisioner(cp);
  await cp.kubeConfig.makeApiClient(StorageV1Api).createStorageClass({
    body: {
      metadata: { name: DEV_STORAGE_CLASS },
      provisioner: DEFAULT_PROVISIONER_NAME,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
  });
}

function readyMessage(cp: ControlPlane, opts: CliOptions): string {
  const bin = cp.binaries.binDir;
  const kubectl = `${cp.binaries.kubectl} --kubeconfig ${cp.kubeconfigPath}`;
  return [
    '',
    `Control plane ready: ${cp.server}`,
    `  nodes: ${opts.nodes} fake (${opts.kwok ? 'kept Ready by kwok' : 'no kwok'})`,
    opts.controllerManager
      ? `  volumes: kube-controller-manager (PV controllers) + provisioner ${DEFAULT_PROVISIONER_NAME}, StorageClass ${DEV_STORAGE_CLASS} (WaitForFirstConsumer)`
      : '  volumes: no PV controller (start with --controller-manager for one)',
    `  kubeconfig: ${cp.kubeconfigPath}`,
    `  logs: ${cp.dir}/*.log`,
    '',
    'Point tools at it:',
    `  export KUBECONFIG=${cp.kubeconfigPath}`,
    `  ${kubectl} get nodes`,
    '  node dist/src/cli/main.js run --kubeconfig "$KUBECONFIG"   (berth; it reads $KUBECONFIG too)',
    `  ${bin}/kube-scheduler --kubeconfig "$KUBECONFIG" --leader-elect=false   (upstream baseline)`,
    '',
    'Press Ctrl-C to stop and remove everything.',
    '',
  ].join('\n');
}

void main();

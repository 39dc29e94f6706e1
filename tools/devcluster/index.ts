// Dev/test Kubernetes control plane built from upstream Go modules (see test/cluster/build.sh).
export {
  ensureBinaries,
  binDirFromBuildScript,
  buildScriptPath,
  findRepoRoot,
  defaultLog,
  type ControlPlaneBinaries,
  type EnsureBinariesOptions,
  type LogFn,
} from './binaries.js';
export { generateControlPlaneCerts, type ControlPlaneCerts } from './certs.js';
export { startControlPlane, getFreePort, type ControlPlane, type StartControlPlaneOptions } from './controlPlane.js';
export {
  startControllerManager,
  PV_BINDER_CONTROLLER,
  PV_HANDSHAKE_CONTROLLERS,
  type ControllerManagerHandle,
  type ControllerManagerTarget,
  type StartControllerManagerOptions,
} from './controllerManager.js';
export {
  kubeconfigForServiceAccount,
  loadKubeConfig,
  renderKubeconfig,
  isApiStatus,
  type KubeconfigSpec,
  type ServiceAccountKubeconfig,
  type ServiceAccountKubeconfigOptions,
} from './kubeconfig.js';
export { startKwok, type KwokHandle, type StartKwokOptions } from './kwok.js';
export {
  createFakeNodes,
  deleteNodes,
  fakeNodeObject,
  KWOK_NODE_ANNOTATION,
  KWOK_NODE_ANNOTATION_VALUE,
  type FakeNodeImage,
  type FakeNodeSpec,
} from './nodes.js';
export { spawnManaged, type ManagedProcess } from './processes.js';
export {
  startProvisioner,
  wantsProvisioning,
  provisionedVolumeName,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_PROVISIONED_BY,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  DEFAULT_PROVISIONER_NAME,
  type ClaimObject,
  type FailurePredicate,
  type ProvisionFailure,
  type ProvisionerCounts,
  type ProvisionerTarget,
  type StartProvisionerOptions,
  type TestProvisioner,
} from './provisioner.js';

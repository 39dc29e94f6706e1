/**
 * The part of upstream's csi-translation-lib (v0.37) that NodeVolumeLimits uses: which in-tree volume sources are
 * migratable to CSI, the CSI driver that replaces each in-tree plugin, and the CSI volume handle a migrated volume
 * gets, for inline volumes and for PersistentVolumes.
 *
 * Seven in-tree plugins are migratable (GCE PD, AWS EBS, Cinder, Azure Disk, Azure File, vSphere, Portworx), so a
 * pod with any of them is not skipped. The scheduler's isCSIMigrationOn names only five of them (not Azure File nor
 * vSphere): only those are ever translated and counted, and only on nodes that have a CSINode object.
 */
import type { PersistentVolume, Volume } from '../../../kube/api.js';

/** A translated volume handle, or the translator's error text. */
export type Translation = { handle: string; error?: undefined } | { handle?: undefined; error: string };

/** The fields of an in-tree source the translations read (JSON names; one source kind uses a subset). */
interface InTreeSource {
  pdName?: string;
  volumeID?: string;
  diskURI?: string;
  kind?: string;
}

export interface InTreePlugin {
  /** The in-tree plugin name, as StorageClass provisioners name it (kubernetes.io/gce-pd). */
  readonly inTreeName: string;
  /** The CSI driver that replaces it. */
  readonly csiDriver: string;
  /** The source field of v1.Volume and v1.PersistentVolumeSpec (gcePersistentDisk). */
  readonly source: string;
  /** Named by upstream's isCSIMigrationOn: its volumes are counted as the CSI driver's. */
  readonly migrationOn: boolean;
  /** TranslateInTreeInlineVolumeToCSI's volume handle. */
  inlineHandle(src: InTreeSource): Translation;
  /** TranslateInTreePVToCSI's volume handle. */
  pvHandle(src: InTreeSource, pv: PersistentVolume): Translation;
}

const UNSPECIFIED = 'UNSPECIFIED';
const LABEL_BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
const LABEL_ZONE = 'topology.kubernetes.io/zone';
/** k8s.io/cloud-provider's LabelMultiZoneDelimiter: a regional disk's zones in one label value. */
const MULTI_ZONE_DELIMITER = '__';

function ok(handle: string): Translation {
  return { handle };
}

function gceZonalHandle(zone: string, pdName: string): string {
  return `projects/${UNSPECIFIED}/zones/${zone}/disks/${pdName}`;
}

/** gceGetRegionFromZones: every zone is "<locale>-<region>-<zone>" and all name one region. */
function gceRegionFromZones(zones: readonly string[]): Translation {
  const regions = new Set<string>();
  for (const zone of zones) {
    const parts = zone.split('-');
    if (parts.length !== 3) return { error: `zone in unexpected format, expected: {locale}-{region}-{zone}, got: ${zone}` };
    regions.add(`${parts[0]}-${parts[1]}`);
  }
  if (regions.size !== 1) return { error: `multiple or no regions gotten from zones, got: ${[...regions].join(',')}` };
  return ok([...regions][0] as string);
}

/** A GCE PD PV's handle names its zone (or region, for a "__"-separated zone list) from the PV's labels. */
function gcePvHandle(src: InTreeSource, pv: PersistentVolume): Translation {
  const pdName = src.pdName ?? '';
  const labels = pv.metadata?.labels ?? {};
  let zonesLabel = labels[LABEL_BETA_ZONE] ?? '';
  if (zonesLabel === '') zonesLabel = labels[LABEL_ZONE] ?? '';
  const zones = zonesLabel.split(MULTI_ZONE_DELIMITER);
  if (zones.length === 1 && zones[0] !== '') return ok(gceZonalHandle(zones[0] as string, pdName));
  if (zones.length > 1) {
    const region = gceRegionFromZones(zones);
    if (region.error !== undefined) return { error: `failed to get region from zones: ${region.error}` };
    return ok(`projects/${UNSPECIFIED}/regions/${region.handle}/disks/${pdName}`);
  }
  return ok(gceZonalHandle(UNSPECIFIED, pdName));
}

const AWS_VOLUME_ID = /^vol-[^/]*$/;

/** Go's url.unescape over a URL part: every "%" starts a two-digit hex escape. */
function unescapeURLPart(part: string): { value: string } | { error: string } {
  if (!part.includes('%')) return { value: part };
  const bytes: number[] = [];
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c !== 0x25) {
      for (const b of Buffer.from(part[i] as string, 'utf8')) bytes.push(b);
      continue;
    }
    const hex = part.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return { error: `invalid URL escape ${JSON.stringify(part.slice(i, i + 3))}` };
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return { value: Buffer.from(bytes).toString('utf8') };
}

/**
 * KubernetesVolumeIDToEBSVolumeID: "aws://<zone>/<vol-id>" (or "aws:///<vol-id>") becomes "<vol-id>", which must
 * look like "vol-..."; any other ID is taken as it is. The URL is split as Go's url.Parse splits it (fragment,
 * query, authority, path), with its control-character and escape errors.
 */
export function ebsVolumeId(id: string): Translation {
  if (!id.startsWith('aws://')) return ok(id);
  const invalid = (detail: string): Translation => ({ error: `Invalid disk name (${id}): parse ${JSON.stringify(id)}: ${detail}` });
  if (/[\x00-\x1f\x7f]/.test(id)) return invalid('net/url: invalid control character in URL');
  const hash = id.indexOf('#');
  const fragment = hash < 0 ? '' : id.slice(hash + 1);
  let rest = (hash < 0 ? id : id.slice(0, hash)).slice('aws://'.length);
  const query = rest.indexOf('?');
  if (query >= 0) rest = rest.slice(0, query);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  for (const part of [authority, fragment]) {
    const checked = unescapeURLPart(part);
    if ('error' in checked) return invalid(checked.error);
  }
  const path = unescapeURLPart(slash < 0 ? '' : rest.slice(slash));
  if ('error' in path) return invalid(path.error);
  const volumeId = path.value.replace(/^\/+|\/+$/g, '');
  if (!AWS_VOLUME_ID.test(volumeId)) return { error: `Invalid format for AWS volume (${id})` };
  return ok(volumeId);
}

function ebsHandle(src: InTreeSource): Translation {
  const t = ebsVolumeId(src.volumeID ?? '');
  return t.error === undefined ? t : { error: `failed to translate Kubernetes ID to EBS Volume ID ${t.error}` };
}

/**
 * Only managed Azure disks translate. An unset kind is what the API server defaults it to, "Shared" (objects from
 * the API always carry it), so it does not translate either.
 */
function azureDiskHandle(src: InTreeSource): Translation {
  const kind = src.kind ?? 'Shared';
  if (kind.toLowerCase() !== 'managed') return { error: `kind(${kind}) is not supported in csi migration` };
  return ok(src.diskURI ?? '');
}

function volumeIdHandle(src: InTreeSource): Translation {
  return ok(src.volumeID ?? '');
}

/** Azure File and vSphere volumes are never translated here (isCSIMigrationOn is false for them). */
function notTranslated(): Translation {
  return { error: 'not translated: CSI migration is not on for this plugin' };
}

export const IN_TREE_PLUGINS: readonly InTreePlugin[] = [
  {
    inTreeName: 'kubernetes.io/gce-pd',
    csiDriver: 'pd.csi.storage.gke.io',
    source: 'gcePersistentDisk',
    migrationOn: true,
    inlineHandle: (src) => ok(gceZonalHandle(UNSPECIFIED, src.pdName ?? '')),
    pvHandle: gcePvHandle,
  },
  { inTreeName: 'kubernetes.io/aws-ebs', csiDriver: 'ebs.csi.aws.com', source: 'awsElasticBlockStore', migrationOn: true, inlineHandle: ebsHandle, pvHandle: ebsHandle },
  { inTreeName: 'kubernetes.io/cinder', csiDriver: 'cinder.csi.openstack.org', source: 'cinder', migrationOn: true, inlineHandle: volumeIdHandle, pvHandle: volumeIdHandle },
  { inTreeName: 'kubernetes.io/azure-disk', csiDriver: 'disk.csi.azure.com', source: 'azureDisk', migrationOn: true, inlineHandle: azureDiskHandle, pvHandle: azureDiskHandle },
  { inTreeName: 'kubernetes.io/azure-file', csiDriver: 'file.csi.azure.com', source: 'azureFile', migrationOn: false, inlineHandle: notTranslated, pvHandle: notTranslated },
  { inTreeName: 'kubernetes.io/vsphere-volume', csiDriver: 'csi.vsphere.vmware.com', source: 'vsphereVolume', migrationOn: false, inlineHandle: notTranslated, pvHandle: notTranslated },
  { inTreeName: 'kubernetes.io/portworx-volume', csiDriver: 'pxd.portworx.com', source: 'portworxVolume', migrationOn: true, inlineHandle: volumeIdHandle, pvHandle: volumeIdHandle },
];

function asSource(value: unknown): InTreeSource | undefined {
  return typeof value === 'object' && value !== null ? (value as InTreeSource) : undefined;
}

/** The migratable plugin of an inline volume and its source (a volume has one source), if any (CanSupportInline). */
export function inlinePlugin(volume: Volume): { plugin: InTreePlugin; src: InTreeSource } | undefined {
  for (const plugin of IN_TREE_PLUGINS) {
    const src = asSource(volume[plugin.source]);
    if (src) return { plugin, src };
  }
  return undefined;
}

/** IsInlineMigratable. */
export function isInlineMigratable(volume: Volume): boolean {
  return inlinePlugin(volume) !== undefined;
}

/** The migratable plugin of a PersistentVolume's in-tree source, if any (CanSupport). */
export function pvPlugin(pv: PersistentVolume): { plugin: InTreePlugin; src: InTreeSource } | undefined {
  const spec = pv.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  for (const plugin of IN_TREE_PLUGINS) {
    const src = asSource(spec[plugin.source]);
    if (src) return { plugin, src };
  }
  return undefined;
}

/** IsMigratableIntreePluginByName / GetCSINameFromInTreeName, for StorageClass provisioners. */
export function pluginByInTreeName(name: string): InTreePlugin | undefined {
  return IN_TREE_PLUGINS.find((p) => p.inTreeName === name);
}

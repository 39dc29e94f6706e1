import { describe, expect, it } from 'vitest';
import type { PersistentVolume, Volume } from '../../../../src/kube/api.js';
import {
  ebsVolumeId,
  inlinePlugin,
  isInlineMigratable,
  pluginByInTreeName,
  pvPlugin,
} from '../../../../src/scheduler/plugins/nodeVolumeLimits/csiTranslation.js';

function inlineHandle(volume: Volume): string {
  const found = inlinePlugin(volume);
  if (!found) throw new Error('not migratable');
  const t = found.plugin.inlineHandle(found.src);
  return t.error ?? `${found.plugin.csiDriver}/${t.handle}`;
}

function pvHandle(pv: PersistentVolume): string {
  const found = pvPlugin(pv);
  if (!found) throw new Error('not migratable');
  const t = found.plugin.pvHandle(found.src, pv);
  return t.error ?? `${found.plugin.csiDriver}/${t.handle}`;
}

function gcePv(labels: Record<string, string>): PersistentVolume {
  return { kind: 'PersistentVolume', metadata: { name: 'pv', labels }, spec: { gcePersistentDisk: { pdName: 'disk' } } };
}

describe('CSI translation (csi-translation-lib v0.37)', () => {
  it('seven in-tree sources are migratable inline; five have CSI migration on', () => {
    const kinds = ['gcePersistentDisk', 'awsElasticBlockStore', 'cinder', 'azureDisk', 'azureFile', 'vsphereVolume', 'portworxVolume'];
    for (const kind of kinds) expect(isInlineMigratable({ name: 'v', [kind]: {} })).toBe(true);
    for (const kind of ['iscsi', 'rbd', 'nfs', 'configMap', 'hostPath']) expect(isInlineMigratable({ name: 'v', [kind]: {} })).toBe(false);
    const on = kinds.filter((kind) => inlinePlugin({ name: 'v', [kind]: {} })?.plugin.migrationOn);
    expect(on).toEqual(['gcePersistentDisk', 'awsElasticBlockStore', 'cinder', 'azureDisk', 'portworxVolume']);
  });

  it('maps in-tree provisioner names to their CSI drivers', () => {
    expect(pluginByInTreeName('kubernetes.io/gce-pd')?.csiDriver).toBe('pd.csi.storage.gke.io');
    expect(pluginByInTreeName('kubernetes.io/aws-ebs')?.csiDriver).toBe('ebs.csi.aws.com');
    expect(pluginByInTreeName('kubernetes.io/cinder')?.csiDriver).toBe('cinder.csi.openstack.org');
    expect(pluginByInTreeName('kubernetes.io/azure-disk')?.csiDriver).toBe('disk.csi.azure.com');
    expect(pluginByInTreeName('kubernetes.io/portworx-volume')?.csiDriver).toBe('pxd.portworx.com');
    expect(pluginByInTreeName('kubernetes.io/azure-file')?.migrationOn).toBe(false);
    expect(pluginByInTreeName('kubernetes.io/vsphere-volume')?.migrationOn).toBe(false);
    expect(pluginByInTreeName('ebs.csi.aws.com')).toBeUndefined();
  });

  it('inline handles', () => {
    expect(inlineHandle({ name: 'v', gcePersistentDisk: { pdName: 'd1' } })).toBe('pd.csi.storage.gke.io/projects/UNSPECIFIED/zones/UNSPECIFIED/disks/d1');
    expect(inlineHandle({ name: 'v', awsElasticBlockStore: { volumeID: 'aws://us-east-1a/vol-0abc' } })).toBe('ebs.csi.aws.com/vol-0abc');
    expect(inlineHandle({ name: 'v', cinder: { volumeID: 'c-1' } })).toBe('cinder.csi.openstack.org/c-1');
    expect(inlineHandle({ name: 'v', portworxVolume: { volumeID: 'px-1' } })).toBe('pxd.portworx.com/px-1');
    expect(inlineHandle({ name: 'v', azureDisk: { diskURI: '/subs/d', kind: 'Managed' } })).toBe('disk.csi.azure.com//subs/d');
  });

  it('Azure disks translate only when managed; an unset kind is the API default, Shared', () => {
    expect(inlineHandle({ name: 'v', azureDisk: { diskURI: 'u', kind: 'managed' } })).toBe('disk.csi.azure.com/u');
    expect(inlineHandle({ name: 'v', azureDisk: { diskURI: 'u' } })).toBe('kind(Shared) is not supported in csi migration');
    expect(inlineHandle({ name: 'v', azureDisk: { diskURI: 'u', kind: 'Dedicated' } })).toBe('kind(Dedicated) is not supported in csi migration');
  });

  it('EBS volume IDs: bare IDs as they are, aws:// URLs reduced to a vol- ID', () => {
    expect(ebsVolumeId('vol-1')).toEqual({ handle: 'vol-1' });
    expect(ebsVolumeId('anything/else')).toEqual({ handle: 'anything/else' });
    expect(ebsVolumeId('aws://us-east-1a/vol-1')).toEqual({ handle: 'vol-1' });
    expect(ebsVolumeId('aws:///vol-1')).toEqual({ handle: 'vol-1' });
    expect(ebsVolumeId('aws://z/vol-1/?q=1#frag')).toEqual({ handle: 'vol-1' });
    expect(ebsVolumeId('aws://z/vol-%41')).toEqual({ handle: 'vol-A' });
    expect(ebsVolumeId('aws://vol-1')).toEqual({ error: 'Invalid format for AWS volume (aws://vol-1)' });
    expect(ebsVolumeId('aws://z/a/vol-1')).toEqual({ error: 'Invalid format for AWS volume (aws://z/a/vol-1)' });
    expect(ebsVolumeId('aws://z/vol-%zz')).toEqual({ error: 'Invalid disk name (aws://z/vol-%zz): parse "aws://z/vol-%zz": invalid URL escape "%zz"' });
    expect(ebsVolumeId('aws://z/vol-1\n').error).toContain('invalid control character in URL');
  });

  it('EBS translation errors carry the translator\'s prefix', () => {
    expect(inlineHandle({ name: 'v', awsElasticBlockStore: { volumeID: 'aws://z/disk-1' } })).toBe(
      'failed to translate Kubernetes ID to EBS Volume ID Invalid format for AWS volume (aws://z/disk-1)',
    );
  });

  it('GCE PD PVs name their zone or region from the PV labels', () => {
    const gce = 'pd.csi.storage.gke.io/projects/UNSPECIFIED';
    expect(pvHandle(gcePv({}))).toBe(`${gce}/zones/UNSPECIFIED/disks/disk`);
    expect(pvHandle(gcePv({ 'topology.kubernetes.io/zone': 'us-central1-a' }))).toBe(`${gce}/zones/us-central1-a/disks/disk`);
    // The beta label wins; an empty beta label falls back to the GA one.
    expect(pvHandle(gcePv({ 'failure-domain.beta.kubernetes.io/zone': 'us-east1-b', 'topology.kubernetes.io/zone': 'x' }))).toBe(
      `${gce}/zones/us-east1-b/disks/disk`,
    );
    expect(pvHandle(gcePv({ 'failure-domain.beta.kubernetes.io/zone': '', 'topology.kubernetes.io/zone': 'us-east1-c' }))).toBe(
      `${gce}/zones/us-east1-c/disks/disk`,
    );
    expect(pvHandle(gcePv({ 'topology.kubernetes.io/zone': 'us-central1-a__us-central1-b' }))).toBe(`${gce}/regions/us-central1/disks/disk`);
    expect(pvHandle(gcePv({ 'topology.kubernetes.io/zone': 'us-central1-a__europe-west1-b' }))).toMatch(/^failed to get region from zones: multiple or no regions/);
    expect(pvHandle(gcePv({ 'topology.kubernetes.io/zone': 'a__b' }))).toMatch(/^failed to get region from zones: zone in unexpected format/);
  });

  it('other PV sources', () => {
    const pv = (spec: PersistentVolume['spec']): PersistentVolume => ({ kind: 'PersistentVolume', metadata: { name: 'pv' }, spec });
    expect(pvHandle(pv({ awsElasticBlockStore: { volumeID: 'aws:///vol-9' } }))).toBe('ebs.csi.aws.com/vol-9');
    expect(pvHandle(pv({ cinder: { volumeID: 'c' } }))).toBe('cinder.csi.openstack.org/c');
    expect(pvHandle(pv({ azureDisk: { diskURI: 'u', kind: 'Managed' } }))).toBe('disk.csi.azure.com/u');
    expect(pvHandle(pv({ portworxVolume: { volumeID: 'px' } }))).toBe('pxd.portworx.com/px');
    expect(pvPlugin(pv({ csi: { driver: 'x', volumeHandle: 'h' } }))).toBeUndefined();
  });
});

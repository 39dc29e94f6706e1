import { describe, expect, it } from 'vitest';
import type { ObjectReference, PersistentVolume, PersistentVolumeClaim } from '../../../../src/kube/api.js';
import {
  ANN_BOUND_BY_CONTROLLER,
  bindVolumeToClaim,
  claimClass,
  findMatchingVolume,
  isVolumeBoundToClaim,
  topologyAllows,
  volumeNodeAffinityMatches,
} from '../../../../src/scheduler/plugins/volumeBinding/volumes.js';

function claim(name: string, opts: { size?: string; cls?: string; modes?: string[]; selector?: Record<string, string>; uid?: string } = {}): PersistentVolumeClaim {
  return {
    metadata: { name, namespace: 'ns', uid: opts.uid ?? `uid-${name}`, resourceVersion: '7' },
    spec: {
      storageClassName: opts.cls ?? 'local',
      accessModes: opts.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: opts.size ?? '10Gi' } },
      ...(opts.selector ? { selector: { matchLabels: opts.selector } } : {}),
    },
  };
}

function volume(
  name: string,
  opts: { size?: string; cls?: string; modes?: string[]; node?: string; phase?: string; labels?: Record<string, string>; claimRef?: ObjectReference } = {},
): PersistentVolume {
  return {
    metadata: { name, labels: opts.labels ?? {} },
    spec: {
      storageClassName: opts.cls ?? 'local',
      accessModes: opts.modes ?? ['ReadWriteOnce'],
      capacity: { storage: opts.size ?? '10Gi' },
      ...(opts.node
        ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [opts.node] }] }] } } }
        : {}),
      ...(opts.claimRef ? { claimRef: opts.claimRef } : {}),
    },
    status: { phase: opts.phase ?? 'Available' },
  };
}

const node1 = { 'kubernetes.io/hostname': 'n1', 'topology.kubernetes.io/zone': 'a' };

describe('findMatchingVolume (scheduler path)', () => {
  it('takes the smallest available volume that fits, of the claim\'s class, on the node', () => {
    const vols = [volume('big', { size: '100Gi', node: 'n1' }), volume('small', { size: '5Gi', node: 'n1' }), volume('fits', { size: '20Gi', node: 'n1' })];
    expect(findMatchingVolume(claim('c'), vols, node1, new Set())?.metadata?.name).toBe('fits');
  });

  it('skips volumes of another class, mode, node, phase, labels, or already chosen for another claim', () => {
    const c = claim('c', { selector: { tier: 'fast' } });
    const vols = [
      volume('other-class', { cls: 'nfs', labels: { tier: 'fast' } }),
      volume('rwx-only', { modes: ['ReadWriteMany'], labels: { tier: 'fast' } }),
      volume('other-node', { node: 'n2', labels: { tier: 'fast' } }),
      volume('released', { phase: 'Released', labels: { tier: 'fast' } }),
      volume('slow', { labels: { tier: 'slow' } }),
      volume('taken', { labels: { tier: 'fast' } }),
    ];
    expect(findMatchingVolume(c, vols, node1, new Set(['taken']))).toBeNull();
    expect(findMatchingVolume(c, vols, node1, new Set())?.metadata?.name).toBe('taken');
  });

  it('a volume pre-bound to the claim wins over smaller ones, and voids the match when its node affinity does not fit', () => {
    const c = claim('c');
    const prebound = volume('pre', { size: '50Gi', node: 'n1', phase: 'Bound', claimRef: { namespace: 'ns', name: 'c' } });
    expect(findMatchingVolume(c, [volume('small'), prebound], node1, new Set())?.metadata?.name).toBe('pre');
    const elsewhere = volume('pre', { size: '50Gi', node: 'n2', claimRef: { namespace: 'ns', name: 'c' } });
    expect(findMatchingVolume(c, [elsewhere, volume('small')], node1, new Set())).toBeNull();
  });

  it('a volume bound to another claim (or to another uid of the same name) is skipped', () => {
    const c = claim('c');
    expect(findMatchingVolume(c, [volume('v', { claimRef: { namespace: 'ns', name: 'other' } })], node1, new Set())).toBeNull();
    expect(findMatchingVolume(c, [volume('v', { claimRef: { namespace: 'ns', name: 'c', uid: 'old' } })], node1, new Set())).toBeNull();
  });

  it('compares sizes exactly, beyond 2^53 bytes', () => {
    // Below 8Ei: from 2^63 bytes up, binary quantities are capped at max int64 (as upstream's ParseQuantity caps them).
    const c = claim('c', { size: '6Ei' });
    expect(findMatchingVolume(c, [volume('v5', { size: '5Ei' }), volume('v7', { size: '7Ei' })], node1, new Set())?.metadata?.name).toBe('v7');
  });
});

describe('binding helpers', () => {
  it('bindVolumeToClaim sets claimRef and bound-by-controller, leaving the input untouched', () => {
    const pv = volume('v');
    const { pv: bound, dirty } = bindVolumeToClaim(pv, claim('c'));
    expect(dirty).toBe(true);
    expect(bound.spec?.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'c', uid: 'uid-c', apiVersion: 'v1' });
    expect(bound.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER]).toBe('yes');
    expect(pv.spec?.claimRef).toBeUndefined();
    expect(isVolumeBoundToClaim(bound, claim('c'))).toBe(true);
    // A volume the user pre-bound keeps its binding and gets no bound-by-controller annotation.
    const prebound = volume('p', { claimRef: { namespace: 'ns', name: 'c' } });
    const again = bindVolumeToClaim(prebound, claim('c'));
    expect(again.pv.spec?.claimRef?.uid).toBe('uid-c');
    expect(again.pv.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER]).toBeUndefined();
  });

  it('claim class: the beta annotation wins over spec.storageClassName', () => {
    const c = claim('c', { cls: 'spec-class' });
    expect(claimClass(c)).toBe('spec-class');
    c.metadata!.annotations = { 'volume.beta.kubernetes.io/storage-class': 'annotated' };
    expect(claimClass(c)).toBe('annotated');
  });

  it('volume node affinity: no affinity fits everywhere; matchFields-only terms match (labels only are checked)', () => {
    expect(volumeNodeAffinityMatches(volume('v'), node1)).toBe(true);
    expect(volumeNodeAffinityMatches(volume('v', { node: 'n2' }), node1)).toBe(false);
    const fieldsOnly: PersistentVolume = {
      spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n9'] }] }] } } },
    };
    expect(volumeNodeAffinityMatches(fieldsOnly, node1)).toBe(true);
  });

  it('allowedTopologies: none allows every node; each term needs every expression to match', () => {
    expect(topologyAllows(undefined, node1)).toBe(true);
    expect(topologyAllows([{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['b', 'a'] }] }], node1)).toBe(true);
    expect(topologyAllows([{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['b'] }] }], node1)).toBe(false);
  });
});

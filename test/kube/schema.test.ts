import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultSpecDir, generateSource, OUTPUT } from '../../tools/schema/generate.js';
import { KIND_DEFINITIONS } from '../../src/kube/schema/generated.js';

describe('the generated Kubernetes schema', () => {
  // The spec ships with the Kubernetes module, in the module cache once the test control plane has been built.
  it.skipIf(!existsSync(defaultSpecDir()))('is what tools/schema/generate.ts makes from the pinned OpenAPI v3 spec', () => {
    expect(readFileSync(new URL(`../../${OUTPUT}`, import.meta.url), 'utf8')).toBe(generateSource());
  });

  it('covers every kind a snapshot may hold that berth reads, and stays small', () => {
    expect(Object.keys(KIND_DEFINITIONS).sort()).toEqual(
      ['CSIDriver', 'CSINode', 'CSIStorageCapacity', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'Pod',
        'ReplicaSet', 'ReplicationController', 'Service', 'StatefulSet', 'StorageClass', 'VolumeAttachment'].sort(),
    );
    expect(readFileSync(new URL(`../../${OUTPUT}`, import.meta.url), 'utf8').length).toBeLessThan(60_000);
  });
});

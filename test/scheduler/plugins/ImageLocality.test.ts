import { describe, expect, it } from 'vitest';
import { CycleState, type ScorePlugin } from '../../../src/scheduler/framework/types.js';
import { calculatePriority, descriptor, ImageLocality, MAX_CONTAINER_THRESHOLD, MIN_THRESHOLD, NAME } from '../../../src/scheduler/plugins/ImageLocality.js';
import type { Container, Node } from '../../../src/kube/api.js';
import type { PodInfo } from '../../../src/scheduler/cache/podInfo.js';
import { createPlugin, emptyProfile, makeCluster, makeNode, podInfo, makeHandle } from '../../helpers/builders.js';

const MI = 1024 * 1024;
const GI = 1024 * MI;

function scores(nodes: Node[], pod: PodInfo): number[] {
  const cluster = makeCluster(nodes);
  const pl = new ImageLocality(makeHandle(cluster, emptyProfile()));
  const state = new CycleState();
  return nodes.map((n) => pl.score(state, pod, cluster.getNode(n.metadata!.name!)!));
}

function withImage(name: string, image: string, sizeBytes: number, more: Array<{ names: string[]; sizeBytes: number }> = []): Node {
  return makeNode(name, { images: [{ names: [image], sizeBytes }, ...more] });
}

function containers(...images: string[]): Container[] {
  return images.map((image, i) => ({ name: `c${i}`, image }));
}

describe('ImageLocality', () => {
  it('exports upstream name, constants and a factory; has no NormalizeScore', () => {
    expect(NAME).toBe('ImageLocality');
    expect(MIN_THRESHOLD).toBe(23 * MI);
    expect(MAX_CONTAINER_THRESHOLD).toBe(1000 * MI);
    const p = createPlugin(descriptor, makeHandle(makeCluster([]), emptyProfile()));
    expect(p.name).toBe('ImageLocality');
    expect((p as ScorePlugin).normalizeScore).toBeUndefined();
  });

  it('the trap: three equal nodes, one holding a 1 GiB image — that node scores high, the others 0', () => {
    const nodes = [withImage('a', 'registry.example/app:1', GI), makeNode('b'), makeNode('c')];
    // sum = int(1 GiB × 1/3) = 357913941; 100 × (357913941 − 23 MiB) / (1000 MiB − 23 MiB) = 32.58 → 32.
    expect(scores(nodes, podInfo('p', { image: 'registry.example/app:1' }))).toEqual([32, 0, 0]);
  });

  it('scales by spread: an image on every node counts its full size', () => {
    const nodes = ['a', 'b', 'c'].map((n) => withImage(n, 'app:2', 500 * MI));
    // 100 × (500 − 23) / (1000 − 23) = 48.8 → 48 on every node.
    expect(scores(nodes, podInfo('p', { image: 'app:2' }))).toEqual([48, 48, 48]);
  });

  it('counts all nodes of the cluster in the spread, and only nodes holding the image in the numerator', () => {
    const nodes = [withImage('a', 'app:3', 900 * MI), withImage('b', 'app:3', 900 * MI), makeNode('c'), makeNode('d')];
    // int(900 MiB × 2/4) = 450 MiB → 100 × 427 / 977 = 43.7 → 43.
    expect(scores(nodes, podInfo('p', { image: 'app:3' }))).toEqual([43, 43, 0, 0]);
  });

  it('scores 0 below the 23 MiB minimum and 100 at or above the per-container maximum', () => {
    const small = [withImage('a', 'tiny:1', 20 * MI)];
    expect(scores(small, podInfo('p', { image: 'tiny:1' }))).toEqual([0]);
    const huge = [withImage('a', 'huge:1', 2000 * MI)];
    expect(scores(huge, podInfo('p', { image: 'huge:1' }))).toEqual([100]);
  });

  it('normalizes names by appending ":latest" when untagged, and nothing else', () => {
    const nodes = [withImage('a', 'nginx:latest', 500 * MI), withImage('b', 'docker.io/library/nginx:latest', 500 * MI)];
    // a: spread 1/2 → 250 MiB → 100 × 227 / 977 = 23.2 → 23. b: "nginx" is not docker.io/library/nginx → 0.
    expect(scores(nodes, podInfo('p', { image: 'nginx' }))).toEqual([23, 0]);
    // A registry port is not a tag: "host:5000/app" gets ":latest".
    const reg = [withImage('a', 'host:5000/app:latest', 500 * MI)];
    expect(scores(reg, podInfo('p', { image: 'host:5000/app' }))).toEqual([48]);
  });

  it('sums init and regular containers, repeats included, with max = 1000 MiB × containers', () => {
    const more = [{ names: ['side:1'], sizeBytes: 1000 * MI }];
    const nodes = [withImage('a', 'main:1', 1000 * MI, more)];
    const pod = podInfo('p', { containers: containers('main:1', 'other:1'), spec: { initContainers: containers('side:1') } });
    // 3 containers, 2 images present: sum 2000 MiB; 100 × (2000 − 23) / (3000 − 23) = 66.4 → 66.
    expect(scores(nodes, pod)).toEqual([66]);
    // Without counting the init container, the same pod would score 100 × 977 / 1977 = 49.
    const twice = podInfo('q', { containers: containers('main:1', 'main:1') });
    // Each container counts: 2000 MiB of 2000 MiB max → 100.
    expect(scores([withImage('a', 'main:1', 1000 * MI)], twice)).toEqual([100]);
    const repeat = podInfo('r', { containers: containers('x:1', 'x:1') });
    // 2 × 600 MiB = 1200 MiB; 100 × 1177 / 1977 = 59.5 → 59.
    expect(scores([withImage('a', 'x:1', 600 * MI)], repeat)).toEqual([59]);
  });

  it('calculatePriority matches upstream integer arithmetic at the edges', () => {
    expect(calculatePriority(0, 1)).toBe(0);
    expect(calculatePriority(MIN_THRESHOLD, 1)).toBe(0);
    expect(calculatePriority(MAX_CONTAINER_THRESHOLD, 1)).toBe(100);
    expect(calculatePriority(MAX_CONTAINER_THRESHOLD - 1, 1)).toBe(99);
    expect(Object.is(calculatePriority(0, 0), 0)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { decideReload, parseSchedulerConfig } from '../../src/config/index.js';
import { IN_TREE_CATALOG } from '../../src/scheduler/plugins/inTree.js';
import { HEADER } from './helpers.js';

const LEASE = 'leaderElection: {leaderElect: true, resourceName: berth, resourceNamespace: berth-system}\n';

function profile(name: string, imageLocality = 1): string {
  return `  - schedulerName: ${name}
    plugins:
      score:
        enabled: [{name: ImageLocality, weight: ${imageLocality}}]
`;
}

const config = (profiles: string, top = LEASE): string => `${HEADER}${top}profiles:\n${profiles}`;
const running = parseSchedulerConfig(config(profile('berth') + profile('berth-pack')), '/etc/berth/config.yaml');
const decide = (text: string) => decideReload(running, text, '/etc/berth/config.yaml', IN_TREE_CATALOG);

describe('decideReload', () => {
  it('applies a changed weight, naming the changed profile and carrying the new weight', () => {
    const d = decide(config(profile('berth', 10) + profile('berth-pack')));
    expect(d).toMatchObject({ kind: 'apply', added: [], removed: [], changed: ['berth'] });
    if (d.kind !== 'apply') throw new Error('not applied');
    expect(d.config.profiles[0]!.plugins.score.find((p) => p.name === 'ImageLocality')?.weight).toBe(10);
  });

  it('a file that differs only in comments and layout is unchanged', () => {
    const d = decide(`# edited\n${config(profile('berth') + profile('berth-pack'))}\n`);
    expect(d.kind).toBe('unchanged');
  });

  it('an invalid file is refused with the located message `config check` prints', () => {
    const d = decide(config(profile('berth', -3) + profile('berth-pack')));
    expect(d.kind).toBe('invalid');
    if (d.kind !== 'invalid') return;
    expect(d.message).toMatch(/^\/etc\/berth\/config\.yaml:\d+:\d+: profiles\[0\]\.plugins\.score\.enabled\[0\]\.weight: /);
  });

  it('malformed YAML is refused with its line and column', () => {
    const d = decide(`${HEADER}profiles: [\n`);
    expect(d).toMatchObject({ kind: 'invalid' });
    if (d.kind === 'invalid') expect(d.message).toMatch(/^\/etc\/berth\/config\.yaml:\d+:\d+: malformed YAML/);
  });

  it('changes to the Lease or the API client need a restart, and the message names each field', () => {
    const top = 'leaderElection: {leaderElect: true, resourceName: berth, resourceNamespace: berth-system, leaseDuration: 30s}\nclientConnection: {qps: 7}\n';
    const d = decide(config(profile('berth', 10) + profile('berth-pack'), top));
    expect(d).toMatchObject({ kind: 'restart-needed', fields: ['leaderElection.leaseDuration', 'clientConnection.qps'] });
    if (d.kind === 'restart-needed') {
      expect(d.message).toBe(
        '/etc/berth/config.yaml: leaderElection.leaseDuration, clientConnection.qps cannot change while berth runs; restart berth to apply them ' +
          '(only profiles and percentageOfNodesToScore reload live)',
      );
    }
  });

  it('the queue backoff and the server addresses are read at start only', () => {
    const d = decide(config(profile('berth') + profile('berth-pack'), `${LEASE}podMaxBackoffSeconds: 20\nhealthzBindAddress: 0.0.0.0:1\n`));
    expect(d).toMatchObject({ kind: 'restart-needed', fields: ['podMaxBackoffSeconds', 'healthzBindAddress'] });
  });

  it('percentageOfNodesToScore reloads live', () => {
    const d = decide(config(profile('berth') + profile('berth-pack'), `${LEASE}percentageOfNodesToScore: 50\n`));
    expect(d).toMatchObject({ kind: 'apply', changed: [] });
    if (d.kind === 'apply') expect(d.config.percentageOfNodesToScore).toBe(50);
  });

  it('a profile removed and one added are both named', () => {
    const d = decide(config(profile('berth') + profile('berth-spread')));
    expect(d).toMatchObject({ kind: 'apply', added: ['berth-spread'], removed: ['berth-pack'], changed: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { diffCounts, parseRequestCounts } from '../../bench/lib/apiMetrics.js';
import { parseArms } from '../../bench/lib/arms.js';
import { parseSs } from '../../bench/lib/procStats.js';
import { median, spread } from '../../bench/lib/stats.js';
import { podBody, podManifest } from '../../bench/lib/workload.js';
import { decodeObject } from '../../src/adapters/live/proto/codec.js';

describe('bench: API server request counts', () => {
  it('sums apiserver_request_total by verb and resource/subresource, folding codes', () => {
    const text = [
      '# HELP apiserver_request_total ...',
      'apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 40',
      'apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} 2',
      'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="cluster",subresource="",verb="WATCH",version="v1"} 3',
      'apiserver_request_total_other{verb="GET"} 9',
    ].join('\n');
    const c = parseRequestCounts(text);
    expect(Object.fromEntries(c)).toEqual({ 'POST pods/binding': 42, 'WATCH pods': 3 });
    expect(Object.fromEntries(diffCounts(new Map([['POST pods/binding', 40], ['WATCH pods', 3]]), c))).toEqual({ 'POST pods/binding': 2 });
  });
});

describe('bench: ss parsing', () => {
  it('keeps the sockets of one pid with bytes received and acknowledged', () => {
    const text = [
      '0      0      127.0.0.1:51320 127.0.0.1:6443 users:(("node",pid=42,fd=88))',
      '\t bbr wscale:10,10 bytes_sent:130 bytes_acked:129 bytes_received:631 segs_out:13',
      '0      0      127.0.0.1:51321 127.0.0.1:6443 users:(("node",pid=420,fd=9))',
      '\t bbr bytes_acked:1 bytes_received:2',
    ].join('\n');
    expect(Object.fromEntries(parseSs(text, 42))).toEqual({ '127.0.0.1:51320>127.0.0.1:6443': { received: 631, sent: 129 } });
  });
});

describe('bench: arms', () => {
  it('parses kinds, names and flags, and rejects unknown kinds and duplicate names', () => {
    expect(parseArms('upstream;berth; json=berth --api-content-type json ;ceiling')).toEqual([
      { name: 'upstream', kind: 'upstream', args: [] },
      { name: 'berth', kind: 'berth', args: [] },
      { name: 'json', kind: 'berth', args: ['--api-content-type', 'json'] },
      { name: 'ceiling', kind: 'ceiling', args: [] },
    ]);
    expect(() => parseArms('kube')).toThrow(/kind must be one of/);
    expect(() => parseArms('berth;berth')).toThrow(/same name/);
    expect(() => parseArms('upstream --v=3')).toThrow(/upstream takes no flags/);
    expect(parseArms('berth --node=--trace-gc; a = berth;berth')).toEqual([
      { name: 'berth --node=--trace-gc', kind: 'berth', args: ['--node=--trace-gc'] },
      { name: 'a', kind: 'berth', args: [] },
      { name: 'berth', kind: 'berth', args: [] },
    ]);
  });
});

describe('bench: statistics', () => {
  it('medians and spreads ignore non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spread([1.2, Number.NaN, 0.8, 1])).toEqual({ median: 1, min: 0.8, max: 1.2, n: 3 });
  });
});

describe('bench: pod creates', () => {
  it('sends as protobuf the pod it sends as JSON', () => {
    const body = podBody('pod-7', 'bench-ns', 'berth');
    expect(body.json).toEqual(podManifest('pod-7', 'bench-ns', 'berth'));
    expect(decodeObject(body.protobuf())).toEqual(podManifest('pod-7', 'bench-ns', 'berth'));
  });
});

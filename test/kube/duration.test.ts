import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from '../../src/config/index.js';

describe('Go durations', () => {
  it.each([
    ['15s', 15],
    ['1m30s', 90],
    ['1.5h', 5400],
    ['300ms', 0.3],
    ['2h45m', 9900],
    ['0', 0],
    ['-1s', -1],
    ['1us', 1e-6],
    ['1µs', 1e-6],
  ])('parses %s', (text, seconds) => {
    expect(parseGoDuration(text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', '15', '1d', 's', '1m30', 'abc', '1.5.3s'])('rejects %j', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it.each([
    [15, '15s'],
    [90, '1m30s'],
    [3600, '1h0m0s'],
    [0.5, '500ms'],
    [0, '0s'],
    [2.5, '2.5s'],
  ])('formats %s s as %s', (seconds, text) => {
    expect(formatGoDuration(seconds)).toBe(text);
    expect(parseGoDuration(text)).toBeCloseTo(seconds, 9);
  });
});

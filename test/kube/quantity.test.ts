import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatMilliCpu,
  isQuantity,
  parseExactQuantity,
  parseMilliQuantity,
  parseQuantity,
  parseQuantityBig,
  QuantityError,
} from '../../src/kube/quantity.js';

/** Exact ceiling of value × 10^scale for a plain decimal string "a.b" (non-negative), computed with BigInt. */
function ceilScaled(whole: string, fraction: string, scale: number): bigint {
  const digits = BigInt(`${whole}${fraction}` || '0');
  const p = scale - fraction.length;
  if (p >= 0) return digits * 10n ** BigInt(p);
  const div = 10n ** BigInt(-p);
  return digits % div === 0n ? digits / div : digits / div + 1n;
}

describe('parseQuantity: suffixes', () => {
  it.each([
    ['1n', 1],
    ['1u', 1],
    ['1m', 1],
    ['1000m', 1],
    ['1001m', 2],
    ['1', 1],
    ['1k', 1e3],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1T', 1e12],
    ['1P', 1e15],
  ])('%s → %d whole units (rounded up)', (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });

  it('exa: refused above 2^53, exact below', () => {
    // 1E = 10^18 > 2^53: berth refuses rather than losing precision.
    expect(() => parseQuantity('1E')).toThrow(QuantityError);
    expect(parseQuantity('0.000001E')).toBe(1e12);
  });

  it.each([
    ['1Ki', 1024],
    ['1Mi', 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1Ti', 1024 ** 4],
    ['1Pi', 1024 ** 5],
    ['0.5Ki', 512],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['0.001Ki', 2], // 1.024 → 2
  ])('%s → %d', (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });

  it('Ei parses exactly and refuses values above 2^53', () => {
    expect(() => parseQuantity('1Ei')).toThrow(QuantityError);
    expect(parseQuantity('0.001Ei')).toBe(Math.ceil(2 ** 60 / 1000));
  });

  it.each([
    ['n', 1e-9],
    ['u', 1e-6],
    ['m', 1e-3],
    ['k', 1e3],
    ['M', 1e6],
    ['G', 1e9],
  ])('milli value of 5%s', (suffix, factor) => {
    const expected = Math.ceil(5 * factor * 1000 - 1e-9);
    expect(parseMilliQuantity(`5${suffix}`)).toBe(Math.max(expected, 1));
  });
});

describe('parseQuantity: decimal exponents and fractions', () => {
  it.each([
    ['1e3', 1000, 1_000_000],
    ['1E3', 1000, 1_000_000],
    ['1e+3', 1000, 1_000_000],
    ['1.5E-3', 1, 2],
    ['1.5e-3', 1, 2],
    ['2e0', 2, 2000],
    ['12e-1', 2, 1200],
    ['0.1', 1, 100],
    ['1.5', 2, 1500],
    ['.5', 1, 500],
    ['5.', 5, 5000],
    ['0', 0, 0],
    ['0.0', 0, 0],
    ['000100m', 1, 100],
    ['+2', 2, 2000],
  ])('%s → value %d, milli %d', (input, value, milli) => {
    expect(parseQuantity(input)).toBe(value);
    expect(parseMilliQuantity(input)).toBe(milli);
  });

  it('rounds up as upstream Value()/MilliValue() do', () => {
    expect(parseMilliQuantity('0.1m')).toBe(1);
    expect(parseMilliQuantity('100m')).toBe(100);
    expect(parseMilliQuantity('1n')).toBe(1);
    expect(parseQuantity('1.5')).toBe(2);
    expect(parseQuantity('100m')).toBe(1);
    expect(parseQuantity('1n')).toBe(1);
    expect(parseMilliQuantity('1.0001')).toBe(1001);
  });

  it('negative quantities round away from zero (upstream AsScale)', () => {
    expect(parseQuantity('-1.5')).toBe(-2);
    expect(parseMilliQuantity('-100m')).toBe(-100);
  });

  it('accepts numbers', () => {
    expect(parseQuantity(3)).toBe(3);
    expect(parseMilliQuantity(0.5)).toBe(500);
  });
});

describe('parseQuantity: invalid inputs', () => {
  it.each(['', 'abc', '1K', '1Kb', '1kb', '1.2.3', '--1', '1 Gi', '1mi', '1e', '1e3.5', 'Gi1', '1Gi1', '0x10', '1_000', 'NaN', '1e3Gi'])(
    '%j throws QuantityError',
    (input) => {
      expect(() => parseQuantity(input)).toThrow(QuantityError);
      expect(() => parseMilliQuantity(input)).toThrow(QuantityError);
      expect(isQuantity(input)).toBe(false);
    },
  );

  it('the error names the input', () => {
    try {
      parseQuantity('12Qi');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(QuantityError);
      expect((err as QuantityError).input).toBe('12Qi');
      expect((err as Error).message).toContain('"12Qi"');
    }
  });

  it('refuses values above 2^53 rather than rounding', () => {
    expect(() => parseQuantity('9007199254740993')).toThrow(QuantityError);
    expect(parseQuantity('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('parseQuantity: properties', () => {
  const binary: Array<[string, number]> = [
    ['Ki', 10],
    ['Mi', 20],
    ['Gi', 30],
    ['Ti', 40],
    ['Pi', 50],
    ['Ei', 60],
  ];

  it('n<binary suffix> === n × 2^k (or refuses above 2^53)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(...binary), (n, [suffix, shift]) => {
        const exact = BigInt(n) << BigInt(shift);
        if (exact > BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(() => parseQuantity(`${n}${suffix}`)).toThrow(QuantityError);
        } else {
          expect(parseQuantity(`${n}${suffix}`)).toBe(Number(exact));
        }
      }),
    );
  });

  it('Ki specifically: parseQuantity(`${n}Ki`) === n*1024', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => {
        expect(parseQuantity(`${n}Ki`)).toBe(n * 1024);
      }),
    );
  });

  it('milli round trip for integer millis', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (m) => {
        expect(parseMilliQuantity(`${m}m`)).toBe(m);
        expect(parseMilliQuantity(formatMilliCpu(m))).toBe(m);
        expect(parseMilliQuantity(String(m))).toBe(m * 1000);
      }),
    );
  });

  it('`${a}.${b}` parses to the exact ceiling (whole units and millis)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 9 }),
        fc.stringMatching(/^[0-9]{1,12}$/),
        (a, b) => {
          const text = `${a}.${b}`;
          expect(parseQuantity(text)).toBe(Number(ceilScaled(String(a), b, 0)));
          expect(parseMilliQuantity(text)).toBe(Number(ceilScaled(String(a), b, 3)));
        },
      ),
    );
  });

  it('decimal exponents agree with the equivalent plain decimal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 6 }), fc.integer({ min: -9, max: 6 }), (n, e) => {
        const plain = e >= 0 ? `${n}${'0'.repeat(e)}` : (() => {
          const s = String(n).padStart(-e + 1, '0');
          return `${s.slice(0, s.length + e)}.${s.slice(s.length + e)}`;
        })();
        expect(parseMilliQuantity(`${n}e${e}`)).toBe(parseMilliQuantity(plain));
        expect(parseQuantity(`${n}E${e}`)).toBe(parseQuantity(plain));
      }),
    );
  });

  it('no float drift: ten "0.1" CPUs sum to exactly 1000 milli, "0.3" = 3 × "0.1"', () => {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += parseMilliQuantity('0.1');
    expect(sum).toBe(1000);
    expect(parseMilliQuantity('0.3')).toBe(3 * parseMilliQuantity('0.1'));
    expect(parseMilliQuantity('0.7')).toBe(700); // 0.7*1000 = 699.9999999999999 in floats
    expect(parseMilliQuantity('4.35')).toBe(4350); // 4.35*1000 = 4349.999999999999
    expect(parseQuantity('1.1Gi')).toBe(Math.ceil((11 * 1024 ** 3) / 10));
  });
});

describe('parseQuantity: the API server\'s own rules (resource.ParseQuantity after UnmarshalJSON)', () => {
  it('trims surrounding whitespace as Go\'s strings.TrimSpace does (U+0085 yes, U+FEFF no)', () => {
    expect(parseMilliQuantity(' 100m\n')).toBe(100);
    expect(parseMilliQuantity('\u0085100m\u3000')).toBe(100);
    expect(() => parseMilliQuantity('\ufeff100m')).toThrow(QuantityError);
    expect(() => parseMilliQuantity('1 Gi')).toThrow(QuantityError);
  });

  it('sign-only and digit-less forms are zero where Go takes its fast path, and errors where it does not', () => {
    for (const zero of ['-', '+', '.', '-.', 'Ki', 'Ti', 'm', 'E', 'e5']) expect(parseQuantity(zero)).toBe(0);
    for (const bad of ['Pi', 'Ei', '-Ei', '.Ei', '-e-20', '..', 'e']) expect(isQuantity(bad)).toBe(false);
  });

  it('binary quantities are capped at max int64; exponents are int64 truncated to int32', () => {
    expect(parseQuantityBig('8Ei')).toBe(2n ** 63n - 1n);
    expect(parseQuantityBig('16Ei')).toBe(2n ** 63n - 1n);
    expect(parseQuantityBig('7Ei')).toBe(7n * 2n ** 60n);
    expect(parseQuantity('1e4294967296')).toBe(1); // 2^32 truncates to 0
    expect(isQuantity('1e9223372036854775808')).toBe(false); // not an int64
  });

  it('values round up to nano units when parsed', () => {
    expect(parseExactQuantity('0.0000000001Ki')).toEqual({ negative: false, coefficient: 103n, exp10: -9 });
    expect(parseExactQuantity('1e-100')).toEqual({ negative: false, coefficient: 1n, exp10: -9 });
  });

  it('refuses texts longer than MAX_QUANTITY_LENGTH instead of building their numbers', () => {
    expect(() => parseQuantity('9'.repeat(2000))).toThrow(/longer than 1024 characters/);
  });
});

// The secure port's serving certificate: self-signed at start, or from files (checked to be a matching pair).
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, servingCertificate, ServingCertificateError } from '../../src/observe/tls.js';

// RSA key generation is real CPU work: on a loaded 2-core machine it can take a few seconds.
const KEYGEN_MS = 30_000;
const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('selfSignedCertificate', () => {
  it('is a self-signed serving certificate for localhost and the loopback and bind addresses, valid now for a year', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const c = selfSignedCertificate('10.1.2.3', now);
    const x = new X509Certificate(c.cert);
    expect(c.selfSigned).toBe(true);
    expect(x.issuer).toBe(x.subject);
    expect(x.subject).toBe(`CN=berth@${now.getTime() / 1000}`);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkPrivateKey(createPrivateKey(c.key))).toBe(true);
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(x.checkIP('10.9.9.9')).toBeUndefined();
    expect(new Date(x.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(x.validTo).getTime()).toBeGreaterThan(now.getTime() + 364 * 24 * 3600 * 1000);
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
  }, KEYGEN_MS);

  it('does not name a wildcard bind address', () => {
    const x = new X509Certificate(selfSignedCertificate('0.0.0.0').cert);
    expect(x.subjectAltName).not.toContain('0.0.0.0');
  }, KEYGEN_MS);
});

describe('servingCertificate from files', () => {
  const own = selfSignedCertificate();
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, own.cert);
  writeFileSync(keyFile, own.key);

  it('reads a matching pair', () => {
    expect(servingCertificate({ certFile, keyFile })).toEqual({ cert: own.cert, key: own.key, selfSigned: false });
  });

  it('refuses half a pair, a missing file, a non-certificate and a key of another certificate, naming the flag', () => {
    expect(() => servingCertificate({ certFile })).toThrow(/--tls-cert-file and --tls-private-key-file go together/);
    // A type the CLI turns into exit status 2 (an input error), like a bad config file.
    expect(() => servingCertificate({ keyFile })).toThrow(ServingCertificateError);
    expect(() => servingCertificate({ certFile: join(dir, 'missing.crt'), keyFile })).toThrow(/--tls-cert-file .*missing\.crt: cannot read it/);
    expect(() => servingCertificate({ certFile: keyFile, keyFile })).toThrow(/--tls-cert-file .*: not a PEM certificate/);
    const otherKey = join(dir, 'other.key');
    writeFileSync(otherKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(() => servingCertificate({ certFile, keyFile: otherKey })).toThrow(/other\.key is not the private key of --tls-cert-file .*tls\.crt/);
  }, KEYGEN_MS);
});

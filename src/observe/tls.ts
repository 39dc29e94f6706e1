/**
 * The serving certificate of berth's secure port, as kube-scheduler gets it: from --tls-cert-file and
 * --tls-private-key-file, or else a self-signed one made at start (upstream writes its self-signed pair to --cert-dir;
 * berth keeps it in memory because its image has a read-only root filesystem and a new pod makes a new one anyway).
 *
 * Node's crypto can make keys and signatures but not X.509 certificates, so node-forge (no dependencies of its own)
 * encodes the certificate; the RSA key and the signature come from Node's native crypto, which is much faster.
 */
import { type KeyObject, X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import forge from 'node-forge';

// forge exports getTBSCertificate (the DER structure a signature covers) but its type definitions omit it.
declare module 'node-forge' {
  namespace pki {
    function getTBSCertificate(cert: Certificate): asn1.Asn1;
  }
}

/** A bad serving-certificate flag or file: the CLI reports it as an input error (exit 2), naming the flag. */
export class ServingCertificateError extends Error {}

export interface ServingCertificate {
  /** PEM certificate (chain). */
  cert: string;
  /** PEM private key. */
  key: string;
  /** True when made at start (clients must skip verification or pin this certificate). */
  selfSigned: boolean;
}

export interface ServingCertificateOptions {
  certFile?: string;
  keyFile?: string;
  /** The bind address; added to the self-signed certificate's names when it is a specific IP. */
  bindAddress?: string;
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServingCertificateError(`${flag} ${file}: cannot read it: ${(err as Error).message}`);
  }
}

/** Reads the pair from files, refusing a certificate and key that do not belong together (TLS would fail later, obscurely). */
function fromFiles(certFile: string, keyFile: string): ServingCertificate {
  const cert = readPem(certFile, '--tls-cert-file');
  const key = readPem(keyFile, '--tls-private-key-file');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new ServingCertificateError(`--tls-cert-file ${certFile}: not a PEM certificate: ${(err as Error).message}`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new ServingCertificateError(`--tls-private-key-file ${keyFile}: not a PEM private key: ${(err as Error).message}`);
  }
  if (!matches) throw new ServingCertificateError(`--tls-private-key-file ${keyFile} is not the private key of --tls-cert-file ${certFile}: pass the matching pair`);
  return { cert, key, selfSigned: false };
}

/** The names a client on the node or in the pod may dial: localhost, the loopback addresses, the host name, the bind IP. */
function subjectAltNames(bindAddress: string | undefined): Array<{ type: number; value?: string; ip?: string }> {
  const dns = new Set(['localhost', hostname()]);
  const ips = new Set(['127.0.0.1', '::1']);
  if (bindAddress && isIP(bindAddress) && bindAddress !== '0.0.0.0' && bindAddress !== '::') ips.add(bindAddress);
  // Type 2 is dNSName, 7 is iPAddress (RFC 5280).
  return [...[...dns].map((value) => ({ type: 2, value })), ...[...ips].map((ip) => ({ type: 7, ip }))];
}

/**
 * Signs the certificate with Node's crypto (sha256WithRSAEncryption) instead of forge's pure-JavaScript RSA, which
 * takes about a second of CPU on a busy machine: forge only encodes the to-be-signed part and the result.
 */
function signNatively(cert: forge.pki.Certificate, key: KeyObject): void {
  cert.signatureOid = forge.pki.oids['sha256WithRSAEncryption']!;
  cert.siginfo.algorithmOid = cert.signatureOid;
  const tbs = Buffer.from(forge.asn1.toDer(forge.pki.getTBSCertificate(cert)).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, key).toString('binary');
}

/** A one-year self-signed RSA-2048 certificate for serving (like upstream's, named `berth@<unix time>`). */
export function selfSignedCertificate(bindAddress?: string, now: Date = new Date()): ServingCertificate {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  // A positive 16-byte serial: the top bit cleared so DER does not read it as negative.
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + 365 * 24 * 60 * 60 * 1000);
  const subject = [{ name: 'commonName', value: `berth@${Math.floor(now.getTime() / 1000)}` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: subjectAltNames(bindAddress) },
  ]);
  signNatively(cert, pair.privateKey);
  return { cert: forge.pki.certificateToPem(cert), key: keyPem, selfSigned: true };
}

/** The certificate to serve with: the given files, or a self-signed one. Errors name the flag and the fix. */
export function servingCertificate(opts: ServingCertificateOptions): ServingCertificate {
  if (opts.certFile && opts.keyFile) return fromFiles(opts.certFile, opts.keyFile);
  if (opts.certFile || opts.keyFile) {
    throw new ServingCertificateError('--tls-cert-file and --tls-private-key-file go together: pass both, or neither for a self-signed certificate');
  }
  return selfSignedCertificate(opts.bindAddress);
}

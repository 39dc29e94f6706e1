// Certificates and keys for a throwaway control plane, made with the openssl CLI (OpenSSL 3).
// Everything is ECDSA P-256 except the service-account signing key (RSA, the apiserver's most tested path).
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ControlPlaneCerts {
  dir: string;
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('openssl not found: run test/cluster/build.sh (it installs it with apt-get) or install openssl');
    }
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

async function newEcKey(cwd: string, keyFile: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], cwd);
}

interface LeafSpec {
  name: string;
  subject: string;
  extensions: string[];
}

async function signLeaf(dir: string, spec: LeafSpec, days: number): Promise<void> {
  const key = `${spec.name}.key`;
  await newEcKey(dir, key);
  await openssl(['req', '-new', '-key', key, '-subj', spec.subject, '-out', `${spec.name}.csr`], dir);
  await writeFile(join(dir, `${spec.name}.ext`), spec.extensions.join('\n') + '\n');
  await openssl(
    [
      'x509', '-req', '-in', `${spec.name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-days', String(days), '-sha256', '-extfile', `${spec.name}.ext`, '-out', `${spec.name}.crt`,
    ],
    dir,
  );
}

/**
 * Creates a CA, an apiserver serving certificate for 127.0.0.1/localhost, an admin client certificate in
 * system:masters, and the service-account signing key pair, all in `dir`.
 */
export async function generateControlPlaneCerts(dir: string, opts: { days?: number } = {}): Promise<ControlPlaneCerts> {
  const days = opts.days ?? 7;
  await mkdir(dir, { recursive: true });
  await newEcKey(dir, 'ca.key');
  await openssl(
    [
      'req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', String(days), '-subj', '/CN=berth-devcluster-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out', 'ca.crt',
    ],
    dir,
  );
  await signLeaf(
    dir,
    {
      name: 'apiserver',
      subject: '/CN=kube-apiserver',
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1',
      ],
    },
    days,
  );
  await signLeaf(
    dir,
    {
      name: 'admin',
      subject: '/O=system:masters/CN=berth-admin',
      extensions: [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=clientAuth',
      ],
    },
    days,
  );
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}

/** Reads a PEM file and returns it base64-encoded, as kubeconfig *-data fields want it. */
export async function pemBase64(file: string): Promise<string> {
  return (await readFile(file)).toString('base64');
}

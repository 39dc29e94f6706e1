/**
 * An HTTPS server on 127.0.0.1 for the credential tests: it asks for a client certificate (without requiring one),
 * records who each request came as (the verified certificate's CN, the Authorization and Impersonate-User headers)
 * and answers every request with an empty PodList.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { generateControlPlaneCerts, type ControlPlaneCerts } from '../../../tools/devcluster/certs.js';

export interface SeenRequest {
  cn: string | undefined;
  auth: string | undefined;
  impersonate: string | undefined;
}

export interface RecordingTlsServer {
  /** A fresh folder holding the certificates (and whatever the test writes there). */
  dir: string;
  certs: ControlPlaneCerts;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startRecordingTlsServer(prefix: string): Promise<RecordingTlsServer> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const certs = await generateControlPlaneCerts(dir);
  const seen: SeenRequest[] = [];
  const server = https.createServer(
    { cert: await readFile(certs.servingCert), key: await readFile(certs.servingKey), ca: await readFile(certs.caCert), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const cn = socket.authorized ? (socket.getPeerCertificate().subject?.CN as string | undefined) : undefined;
      const impersonate = req.headers['impersonate-user'];
      seen.push({ cn, auth: req.headers.authorization, impersonate: typeof impersonate === 'string' ? impersonate : undefined });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'PodList', items: [] }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, certs, port, seen, close };
}

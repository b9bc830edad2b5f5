import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';

/** A self-signed certificate for 127.0.0.1 and its key, as PEM. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/**
 * Generates a throwaway self-signed certificate for `IP:127.0.0.1` with the
 * `openssl` CLI (Debian's `openssl` package). Nothing is committed: the files
 * live in a temporary directory that is removed before this returns.
 */
export function generateCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'honeybee-tls-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=honeybee test',
        '-addext',
        'subjectAltName=IP:127.0.0.1'
      ],
      { stdio: 'ignore' }
    );
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A `wss` server on 127.0.0.1 port 0 with a freshly generated self-signed certificate. */
export interface TlsTestServer {
  url: string;
  /** The certificate, PEM: pass it as `tls.ca` to trust this server. */
  ca: string;
  wss: WebSocketServer;
  readonly sockets: Set<ServerSocket>;
  close(): Promise<void>;
}

export async function startTlsServer(certificate: TestCertificate = generateCertificate()): Promise<TlsTestServer> {
  const server = https.createServer({ cert: certificate.cert, key: certificate.key });
  // Failed handshakes (the client refusing our certificate) are expected here.
  server.on('tlsClientError', () => {});
  const wss = new WebSocketServer({ server });
  const sockets = new Set<ServerSocket>();
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}`,
    ca: certificate.cert,
    wss,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}

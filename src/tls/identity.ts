/** Who is on the other end of a TLS connection: subject CN and SAN DNS names and URIs of the peer certificate. */
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface PeerIdentity {
  readonly commonNames: readonly string[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
}

/** Every name access lists are matched against. */
export function identityNames(identity: PeerIdentity): string[] {
  return [...identity.commonNames, ...identity.dnsNames, ...identity.uris];
}

/** For messages: `CN=writer (DNS:a, URI:spiffe://b)`. */
export function describeIdentity(identity: PeerIdentity | undefined): string {
  if (identity === undefined) return 'a client without a verified certificate';
  const san = [...identity.dnsNames.map((n) => `DNS:${n}`), ...identity.uris.map((u) => `URI:${u}`)];
  const cn = identity.commonNames.length > 0 ? identity.commonNames.map((n) => `CN=${n}`).join(',') : 'no CN';
  return san.length > 0 ? `${cn} (${san.join(', ')})` : cn;
}

/** The identity in a certificate as Node reports it; undefined for an empty object (no certificate). */
export function identityOfCertificate(cert: PeerCertificate | undefined | null): PeerIdentity | undefined {
  if (cert === undefined || cert === null || Object.keys(cert).length === 0) return undefined;
  const cn: unknown = (cert.subject as Record<string, unknown> | undefined)?.['CN'];
  const commonNames = typeof cn === 'string' ? [cn] : Array.isArray(cn) ? cn.filter((v): v is string => typeof v === 'string') : [];
  const dnsNames: string[] = [];
  const uris: string[] = [];
  for (const { kind, value } of parseSubjectAltName(cert.subjectaltname ?? '')) {
    if (kind === 'DNS') dnsNames.push(value);
    else if (kind === 'URI') uris.push(value);
  }
  return { commonNames, dnsNames, uris };
}

/**
 * The identity of a TLS peer whose certificate chained to the CA; undefined for a plaintext
 * connection, no certificate, or one that failed verification (possible when certificates are
 * requested but not required).
 */
export function verifiedPeerIdentity(socket: unknown): PeerIdentity | undefined {
  if (!isTlsSocket(socket) || !socket.authorized) return undefined;
  return identityOfCertificate(socket.getPeerCertificate(false));
}

function isTlsSocket(socket: unknown): socket is TLSSocket {
  return (
    typeof socket === 'object' &&
    socket !== null &&
    (socket as { encrypted?: unknown }).encrypted === true &&
    typeof (socket as { getPeerCertificate?: unknown }).getPeerCertificate === 'function'
  );
}

/**
 * Splits Node's `subjectaltname` text, e.g. `DNS:a, IP Address:127.0.0.1, URI:"x,y"`: entries are
 * separated by ", " and a value holding a comma or quote is a JSON string.
 */
export function parseSubjectAltName(text: string): { kind: string; value: string }[] {
  const entries: { kind: string; value: string }[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end += 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        value = text.slice(colon + 2, end - 1);
      }
    } else {
      end = text.indexOf(', ', colon + 1);
      if (end < 0) end = text.length;
      value = text.slice(colon + 1, end);
    }
    entries.push({ kind, value });
    i = end;
    while (text[i] === ',' || text[i] === ' ') i += 1;
  }
  return entries;
}

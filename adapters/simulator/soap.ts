// SOAP 1.2 as ONVIF devices speak it: reading a request envelope (hardened), writing answers and faults.
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseStringPromise, processors } from 'xml2js';
import { escapeXml } from '../core/xml.js';

/** NS are the namespaces of ONVIF Profile S answers. */
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  timg: 'http://www.onvif.org/ver20/imaging/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
} as const;

/** MAX_SOAP_BYTES bounds a request: no ONVIF request a camera answers is anywhere near it. */
export const MAX_SOAP_BYTES = 64 * 1024;

/**
 * SoapFault is an answer that says the request failed. code and subcodes are qualified names: the code
 * (env:Sender), then ONVIF's subcodes from general to particular (ter:InvalidArgVal, ter:NoProfile), each written as
 * its own nested Subcode, as SOAP 1.2 and ONVIF Core 5.11 write them; the reason is words for people.
 */
export class SoapFault extends Error {
  override name = 'SoapFault';
  readonly status: number;
  readonly code: string;
  readonly subcodes: readonly string[];

  constructor(status: number, code: string, subcodes: string | readonly string[], reason: string) {
    super(reason);
    this.status = status;
    this.code = code;
    this.subcodes = typeof subcodes === 'string' ? [subcodes] : subcodes;
  }
}

/** UsernameToken is the WS-Security header of a request. */
export interface UsernameToken {
  username: string;
  password: string;
  passwordType: 'digest' | 'text';
  nonce?: string;
  created?: string;
}

/** SoapRequest is a parsed envelope: the operation (local name of the body's first element) and its fields. */
export interface SoapRequest {
  operation: string;
  body: Record<string, unknown>;
  token?: UsernameToken;
  messageId?: string;
}

type Node = Record<string, unknown> & { $?: Record<string, string>; _?: string };

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Node)._ === 'string') return (v as Node)._;
  return undefined;
}

/** parseSoap reads a request envelope; it throws SoapFault (env:Sender) for anything that is not one. */
export async function parseSoap(xml: string): Promise<SoapRequest> {
  // SOAP 1.2 forbids a DTD; refusing it outright also closes the door on entity expansion.
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new SoapFault(400, 'env:Sender', 'ter:WellFormed', 'a SOAP envelope must not carry a DTD');
  let doc: Record<string, Node>;
  try {
    doc = await parseStringPromise(xml, { explicitArray: false, tagNameProcessors: [processors.stripPrefix], attrNameProcessors: [processors.stripPrefix] }) as Record<string, Node>;
  } catch (err) {
    throw new SoapFault(400, 'env:Sender', 'ter:WellFormed', `the request is not well-formed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  const envelope = doc?.Envelope;
  const body = envelope?.Body as Node | undefined;
  if (!envelope || !body || typeof body !== 'object') throw new SoapFault(400, 'env:Sender', 'ter:WellFormed', 'the request is not a SOAP envelope with a Body');
  const operation = Object.keys(body).find((k) => k !== '$');
  if (!operation) throw new SoapFault(400, 'env:Sender', 'ter:WellFormed', 'the SOAP Body is empty');
  const op = body[operation];
  const header = envelope.Header as Node | undefined;
  const security = header && typeof header === 'object' ? (header.Security as Node | undefined) : undefined;
  const ut = security && typeof security === 'object' ? (security.UsernameToken as Node | undefined) : undefined;
  let token: UsernameToken | undefined;
  if (ut && typeof ut === 'object') {
    const pw = ut.Password as Node | string | undefined;
    const type = typeof pw === 'object' ? pw.$?.Type ?? '' : '';
    token = {
      username: text(ut.Username) ?? '',
      password: text(pw) ?? '',
      passwordType: /PasswordDigest$/.test(type) ? 'digest' : 'text',
      nonce: text(ut.Nonce),
      created: text(ut.Created),
    };
  }
  return {
    operation,
    body: typeof op === 'object' && op !== null ? op as Record<string, unknown> : {},
    token,
    messageId: header && typeof header === 'object' ? text(header.MessageID) : undefined,
  };
}

/** field reads a text field of a request body (undefined when absent). */
export function field(body: Record<string, unknown>, name: string): string | undefined {
  return text(body[name])?.trim();
}

/** deepField reads the text of a nested element (e.g. Focus/Continuous/Speed). */
export function deepField(body: Record<string, unknown>, path: string[]): string | undefined {
  let cur: unknown = body;
  for (const p of path.slice(0, -1)) cur = cur && typeof cur === 'object' ? (cur as Node)[p] : undefined;
  return cur && typeof cur === 'object' ? field(cur as Record<string, unknown>, path[path.length - 1]!) : undefined;
}

/** attr reads an attribute of a child element (e.g. Velocity/PanTilt@x). */
export function attr(body: Record<string, unknown>, path: string[], name: string): string | undefined {
  let cur: unknown = body;
  for (const p of path) cur = cur && typeof cur === 'object' ? (cur as Node)[p] : undefined;
  return cur && typeof cur === 'object' ? (cur as Node).$?.[name] : undefined;
}

/** passwordDigest is WS-Security's Base64(SHA-1(nonce + created + password)). */
export function passwordDigest(nonceBase64: string, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([Buffer.from(nonceBase64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');
}

/** sameDigest compares two digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}


/** envelope wraps body elements in a SOAP 1.2 envelope that declares every ONVIF namespace used. */
export function envelope(body: string, header = ''): string {
  const decl = Object.entries(NS).map(([p, uri]) => `xmlns:${p}="${uri}"`).join(' ');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope ${decl}>${header ? `<env:Header>${header}</env:Header>` : ''}<env:Body>${body}</env:Body></env:Envelope>`;
}

/** faultEnvelope answers a SoapFault as ONVIF devices do. */
export function faultEnvelope(f: SoapFault): string {
  const subcodes = f.subcodes.reduceRight((inner, code) => `<env:Subcode><env:Value>${code}</env:Value>${inner}</env:Subcode>`, '');
  return envelope(`<env:Fault><env:Code><env:Value>${f.code}</env:Value>${subcodes}</env:Code>`
    + `<env:Reason><env:Text xml:lang="en">${escapeXml(f.message)}</env:Text></env:Reason></env:Fault>`);
}

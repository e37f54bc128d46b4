// XML text escaping, for the SOAP both the ONVIF client and the simulator write.

/** escapeXml escapes text for an element or an attribute value. */
export function escapeXml(s: string | number): string {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

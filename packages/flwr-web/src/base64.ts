/** Base64 of bytes and back, with the browser's `btoa`/`atob` (no Node `Buffer`). */

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/**
 * Bytes of standard base64 text.
 * @throws Error when `text` is not base64.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

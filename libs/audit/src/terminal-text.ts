/**
 * Text from the audit trail on an operator's terminal. Everything `beamline audit` prints comes from NATS,
 * which anyone allowed to publish there can write: a JWS `kid`, an app id in an unverifiable envelope, a
 * subject. A terminal acts on control characters in that text (`\r` and `ESC[2K` erase a line, `ESC[8m` hides
 * what follows, OSC sequences set the title or a clipboard), and Unicode bidi controls and line separators
 * reorder or break what the operator reads (Trojan Source). So every line is passed through here last, at the
 * printing boundary, and such characters become visible escapes instead.
 */

/**
 * What is escaped: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), the Arabic letter mark (U+061C), zero-width
 * characters and LRM/RLM (U+200B–U+200F), the line and paragraph separators (U+2028, U+2029), the bidi
 * embeddings and overrides (U+202A–U+202E), the invisible operators and bidi isolates (U+2060–U+2069), the
 * byte order mark (U+FEFF) and lone surrogates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udfff]/gu;

const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function hex(c: string, digits: number): string {
  return c.charCodeAt(0).toString(16).padStart(digits, '0');
}

/**
 * `text` with every unsafe character written as an escape: `\t`, `\n`, `\r`, `\xNN` up to U+00FF, `\uNNNN`
 * above. A backslash already in the text is left as it is: the point is that nothing reaches the terminal
 * that it would act on, not that the text can be decoded again (the `--json` output is lossless).
 */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * `JSON.stringify(value)` with every unsafe character written as a JSON `\uNNNN` escape. JSON.stringify
 * already escapes C0 but leaves DEL, C1 and the Unicode controls as they are; a JSON reader gets exactly the
 * same value back.
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${hex(c, 4)}`);
}

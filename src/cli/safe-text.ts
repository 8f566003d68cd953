/**
 * Text for a terminal: control characters (ESC sequences that recolour, move the cursor or retitle
 * the window, and the rest of C0/C1 but tab and newline) are removed, so a knowledge file or a
 * question cannot drive the curator's terminal.
 */
export function safeText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");
}

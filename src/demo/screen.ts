/** The part of a stream the screen uses; `process.stdout` fits. */
export interface ScreenOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/**
 * Prints the demo's status blocks. On a terminal each block replaces the
 * previous one (ANSI cursor-up and clear); anywhere else every block is kept,
 * one after the other, so logs show the whole run.
 *
 * @example
 * ```ts
 * const screen = createScreen(process.stdout);
 * screen.draw(['[  1.0s] 5 peers', '  steady  connected']);
 * ```
 */
export function createScreen(out: ScreenOutput): { draw(lines: string[]): void } {
  let drawn = 0;
  return {
    draw(lines) {
      if (out.isTTY) {
        // Cursor up to the first line of the previous block, then clear to the end of the screen.
        const rewind = drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '';
        // A wrapped line would throw the cursor-up count off, so cut lines at the terminal width.
        const width = Math.max(20, (out.columns || 80) - 1);
        out.write(`${rewind}${lines.map((line) => line.slice(0, width)).join('\n')}\n`);
        drawn = lines.length;
      } else {
        // Logs and pipes get every block, separated by a blank line.
        out.write(`${lines.join('\n')}\n\n`);
      }
    }
  };
}

import { existsSync } from 'node:fs';

/** Debian's Chromium, which `.ci/run` installs when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launch flags for this closed network: no background traffic, no first-run work. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];

export const haveChromium = existsSync(CHROMIUM);

/** Appended to a describe's name, so a skipped browser suite says why. */
export const chromiumSkipNote = haveChromium ? '' : ` (skipped: ${CHROMIUM} not found; install the Debian chromium package)`;

/**
 * The example app: a pool of the peers named in the page's `?peers=` query
 * (comma-separated ws:// URLs), shown as a live {@link PeerTable}. Built with
 * esbuild for the browser (see test/browser-pool.test.ts); `window.pool`
 * and `window.createPool` are there for the browser test to drive.
 */
import { createRoot } from 'react-dom/client';
import { createPool } from 'honeybee-pool';
import { PeerTable } from './peer-table.tsx';

const pool = createPool({ id: 'peer-table', reconnectDelay: 100, retry: { initialDelay: 100, maxDelay: 400 } });
const urls = new URLSearchParams(location.search).get('peers')?.split(',') ?? [];
for (const url of urls) pool.connect(url);
Object.assign(window, { pool, createPool });

createRoot(document.getElementById('app') as HTMLElement).render(<PeerTable pool={pool} />);

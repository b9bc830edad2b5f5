import { useSelector } from '@xstate/react';
import { useEffect, useState } from 'react';
import type { Pool } from 'honeybee-pool';

/**
 * A live peer table: the pool actor's snapshot drives the peer list (its
 * `live` count changes as peers come and go) and every lifecycle event the
 * pool actor emits re-reads the table; counters refresh once a second.
 */
export function PeerTable({ pool }: { pool: Pool }) {
  const live = useSelector(pool.actor, (snapshot) => snapshot.context.live);
  const [, redraw] = useState(0);
  useEffect(() => {
    const events = pool.actor.on('*', () => redraw((n) => n + 1));
    const timer = setInterval(() => redraw((n) => n + 1), 1000);
    return () => (events.unsubscribe(), clearInterval(timer));
  }, [pool]);
  const { peers } = pool.stats();
  return (
    <table>
      <caption>{live} workers, {peers.filter((p) => p.connected).length} connected</caption>
      <thead>
        <tr><th>peer</th><th>state</th><th>received</th><th>sent</th><th>restarts</th></tr>
      </thead>
      <tbody>
        {peers.map((p) => (
          <tr key={p.id} data-peer={p.id} data-state={p.state}>
            <td>{p.id}</td><td className={p.state}>{p.state}</td><td>{p.received}</td><td>{p.sent}</td><td>{p.restarts}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

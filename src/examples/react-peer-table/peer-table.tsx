import { useSelector } from '@xstate/react';
import { useEffect, useState } from 'react';
import type { Pool, PoolStats } from 'honeybee-pool';

/**
 * The pool's stats, read again on every lifecycle event the pool actor
 * emits and once a second (message counters move without events: the data
 * path never goes through an actor).
 */
export function usePoolStats(pool: Pool): PoolStats {
  const [, redraw] = useState(0);
  useEffect(() => {
    const events = pool.actor.on('*', () => redraw((n) => n + 1));
    const timer = setInterval(() => redraw((n) => n + 1), 1000);
    return () => (events.unsubscribe(), clearInterval(timer));
  }, [pool]);
  return pool.stats();
}

/** A live peer table: the pool actor's snapshot (its running workers) and every peer's state and counters. */
export function PeerTable({ pool }: { pool: Pool }) {
  const live = useSelector(pool.actor, (snapshot) => snapshot.context.live);
  const { peers } = usePoolStats(pool);
  return (
    <table>
      <caption>{live} workers, {peers.filter((p) => p.connected).length} connected</caption>
      <thead><tr><th>peer</th><th>state</th><th>received</th><th>sent</th><th>restarts</th></tr></thead>
      <tbody>{peers.map((p) => (
        <tr key={p.id} data-peer={p.id} data-state={p.state}>
          <td>{p.id}</td><td className={p.state}>{p.state}</td><td>{p.received}</td><td>{p.sent}</td><td>{p.restarts}</td>
        </tr>
      ))}</tbody>
    </table>
  );
}

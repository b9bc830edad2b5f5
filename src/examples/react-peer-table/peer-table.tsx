import { useSelector } from '@xstate/react';
import type { Pool } from 'honeybee-pool';
import { usePeers } from 'honeybee-pool/react';

/** A live peer table: the pool actor's snapshot (its running workers) and every peer's state and counters. */
export function PeerTable({ pool }: { pool: Pool }) {
  const live = useSelector(pool.actor, (snapshot) => snapshot.context.live);
  const peers = usePeers(pool); // lifecycle changes at once, counters every second
  return (
    <table>
      <caption>
        {live} workers, {peers.filter((p) => p.connected).length} connected
      </caption>
      <thead>
        <tr>
          <th>peer</th>
          <th>state</th>
          <th>received</th>
          <th>sent</th>
          <th>restarts</th>
        </tr>
      </thead>
      <tbody>
        {peers.map((p) => (
          <tr key={p.id} data-peer={p.id} data-state={p.state}>
            <td>{p.id}</td>
            <td className={p.state}>{p.state}</td>
            <td>{p.received}</td>
            <td>{p.sent}</td>
            <td>{p.restarts}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

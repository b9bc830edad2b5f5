import { startSequenceServer } from './test/helpers/sequence-server.ts';
const s = await startSequenceServer({ paths: 8, intervalMs: 50 });
console.log(JSON.stringify(s.urls));
setTimeout(() => { console.log('open', s.open); process.exit(0); }, 12000);

import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: ['src/web.ts'], bundle: true, write: false, platform: 'browser', format: 'esm', target: 'es2022', minify: true, metafile: true });
console.log(gzipSync(r.outputFiles[0].contents).length);
const inputs = r.metafile.outputs[Object.keys(r.metafile.outputs)[0]].inputs;
for (const [k, v] of Object.entries(inputs)
  .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
  .slice(0, 30))
  if (!k.includes('node_modules')) console.log(v.bytesInOutput, k);

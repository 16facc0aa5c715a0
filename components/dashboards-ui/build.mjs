// Bundles the dashboard pages' script with Chart.js into the server's static files.
// Run by `make` (npm ci && node build.mjs); nothing is fetched at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.js'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outfile: '../../server/dashboards/static/dashboards/app.js',
  legalComments: 'linked',
  logLevel: 'info',
});

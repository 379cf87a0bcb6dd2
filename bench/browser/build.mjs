/**
 * Bundle the sidebar benchmark page (entry.tsx with the real components from src/) into
 * build/bench.js, with the rspack that @jupyter/builder brings and the same loader rules as the
 * extension's own build. Run by bench/sidebar_render.py when a source is newer than the bundle.
 */
/* global console, process */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { rspack } from '@rspack/core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const base = require('@jupyter/builder/lib/webpack.config.base.js');

const config = {
  mode: 'production',
  context: here,
  entry: './entry.tsx',
  output: { path: path.join(here, 'build'), filename: 'bench.js', clean: true },
  devtool: false,
  // Production React and the same code paths; unminified to keep the build short.
  optimization: { minimize: false },
  performance: { hints: false },
  resolve: { ...base.resolve, extensions: ['.tsx', '.ts', '.js'] },
  module: {
    rules: [
      // The root package.json lists only style/ as having side effects; the page's own CSS has.
      { test: /bench[\\/]browser[\\/].*\.css$/, sideEffects: true },
      {
        test: /\.tsx?$/,
        exclude: /node_modules/,
        loader: 'builtin:swc-loader',
        options: {
          jsc: {
            parser: { syntax: 'typescript', tsx: true },
            transform: { react: { runtime: 'classic' } },
            target: 'es2022'
          }
        },
        type: 'javascript/auto'
      },
      ...base.module.rules
    ]
  },
  plugins: base.plugins
};

rspack(config, (error, stats) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  if (stats.hasErrors()) {
    console.error(stats.toString({ all: false, errors: true }));
    process.exit(1);
  }
  const info = stats.toJson({ all: false, assets: true, timings: true });
  const size = info.assets.reduce((sum, asset) => sum + asset.size, 0);
  console.log(
    `built ${path.relative(process.cwd(), path.join(here, 'build'))} ` +
      `(${(size / 1e6).toFixed(1)} MB) in ${info.time} ms`
  );
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'jsdom',
    include: ['src/__tests__/**/*.spec.{ts,tsx}'],
    setupFiles: ['src/__tests__/setup.ts'],
    // Not UTC: a time parsed as local instead of UTC shows in the results, wherever tests run.
    env: { TZ: 'Asia/Kolkata' },
    server: {
      deps: {
        // Published as ESM with extensionless relative imports: let Vite resolve them.
        inline: [/@jupyter\/web-components/, /@microsoft\/fast-/]
      }
    }
  }
});

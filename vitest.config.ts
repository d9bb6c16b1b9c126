import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'protocol/**/*.test.ts', 'electron/**/*.test.ts', 'cli/**/*.test.ts', 'renderer/**/*.test.{ts,tsx}', 'host/**/*.test.ts', 'test/unit/**/*.test.ts'],
    testTimeout: 120_000,
    setupFiles: ['test/unit/dom-setup.ts'],
  },
});

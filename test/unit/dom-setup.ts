// Vitest setup for the component tests (happy-dom). Testing Library's findBy*/waitFor give
// up after 1 s by default; the suite runs beside tests that start VM processes on the same
// two cores, and a starved worker once missed that second. Waiting longer costs nothing
// when things are fast, and a component that never shows what it should still fails.
if (typeof document !== 'undefined') {
  const { configure } = await import('@testing-library/dom');
  configure({ asyncUtilTimeout: 15_000 });
}
export {};

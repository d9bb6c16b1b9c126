// Issue 4's end-to-end scenario with the real Linux guest: create the VM through the
// wizard with linux-686.iso, start it, see the guest's ready marker on the screen
// (accessible text) and in the serial console, run a command through the serial
// console and through the VGA console, pause and resume, and shut the guest down.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { withE2e, assert, SHARED_GUESTS, ARTIFACTS } from './harness';

const ISO = path.join(SHARED_GUESTS, 'linux-686.iso');
const BOOT_TIMEOUT = Number(process.env.BOXWOOD_E2E_BOOT_TIMEOUT_MS ?? 1_500_000);

/** Wait for `done`, printing what the guest shows every minute (a slow boot is then visible in the log). */
async function withProgress<T>(display: Page, done: Promise<T>): Promise<T> {
  const t0 = Date.now();
  const timer = setInterval(() => {
    void Promise.all([
      display.getByTestId('screen-text').textContent().catch(() => ''),
      display.locator('.statusbar').textContent().catch(() => ''),
    ]).then(([text, status]) => {
      const last = (text ?? '').split('\n').filter((l) => l.trim()).pop() ?? '';
      console.log(`  … ${Math.round((Date.now() - t0) / 1000)} s: "${last.trim().slice(0, 100)}" [${(status ?? '').replace(/\s+/g, ' ').slice(0, 80)}]`);
    });
  }, 60_000);
  try {
    return await done;
  } finally {
    clearInterval(timer);
  }
}

await withE2e(async ({ host, context, page }, step) => {
  let id = '';
  await page.goto(host.server.openUrl);
  let display: Page = page;

  await step('create the Linux VM through the wizard', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('Linux');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Base memory (MiB)').fill('128');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/No hard disk/).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/ISO image/).fill(ISO);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finish' }).click();
    await page.getByRole('option', { name: /Linux/ }).waitFor();
    id = (host.service.list().find((v) => v.config?.name === 'Linux') ?? { id: '' }).id;
    assert(id, 'VM not in the library');
  });

  await step('start it and see GUEST-READY on the screen and in the serial console', async () => {
    // Start opens the display window, as it does for a user.
    [display] = await Promise.all([context.waitForEvent('page'), page.getByRole('button', { name: 'Start' }).click()]);
    await display.setViewportSize({ width: 1000, height: 760 });
    await display.bringToFront(); // a background tab gets no animation frames, and Playwright waits for them
    await withProgress(display, display.getByTestId('screen-text').filter({ hasText: 'GUEST-READY' }).waitFor({ state: 'attached', timeout: BOOT_TIMEOUT }));
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-ready-screen.png') });
    await display.getByRole('tab', { name: 'Serial console' }).click();
    await display.getByTestId('serial-console').getByText('GUEST-READY').first().waitFor();
    await withProgress(display, display.getByTestId('serial-console').getByText('guest#').last().waitFor({ timeout: BOOT_TIMEOUT }));
  });

  await step('type a command into the serial console and see its output', async () => {
    await display.getByTestId('serial-console').click();
    await display.keyboard.type('echo serial-$((6*7))\n');
    await display.getByTestId('serial-console').getByText('serial-42').waitFor({ timeout: 60_000 });
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-serial-console.png') });
  });

  await step('type on the VGA console (tty1) and see the result on screen', async () => {
    await display.getByRole('tab', { name: 'Screen' }).click();
    await display.locator('.screen').click(); // capture the keyboard
    await display.getByText('Keyboard captured').waitFor();
    // Playwright types '$' or '*' as the bare key (Digit4, Digit8) without pressing Shift,
    // and the display sends physical keys: so the command uses only unshifted keys.
    await display.keyboard.type('echo -n vga-; seq 42 42\n');
    await display.getByTestId('screen-text').filter({ hasText: 'vga-42' }).waitFor({ state: 'attached', timeout: 60_000 });
    await display.keyboard.press('ControlRight'); // the host key releases the keyboard
    await display.getByText('Click the screen to capture').waitFor();
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-vga-console.png') });
  });

  await step('pause and resume', async () => {
    await display.bringToFront();
    await display.getByRole('button', { name: 'Pause' }).click();
    await page.getByTestId('vm-state').filter({ hasText: 'Paused' }).waitFor();
    await display.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('vm-state').filter({ hasText: 'Running' }).waitFor();
  });

  await step('shut the guest down (poweroff through ACPI S5)', async () => {
    await display.getByRole('tab', { name: 'Serial console' }).click();
    await display.getByTestId('serial-console').click();
    await display.keyboard.type('poweroff -f\n');
    await page.getByTestId('vm-state').filter({ hasText: 'Powered Off' }).waitFor({ timeout: 120_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'linux-powered-off.png') });
  });
});

// The display window as a user meets it, with the smallest real guest (hello.img,
// a boot sector that prints HELLO on screen and COM1): start from the manager, see
// the guest text on the screen (accessible text) and in the serial console, pause
// and resume, kill the VM process and see Aborted, start it again, power off.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { withE2e, assert, SHARED_GUESTS, ARTIFACTS } from './harness';

await withE2e(async ({ host, home, context, page }, step) => {
  const disk = path.join(home, 'hello.img');
  copyFileSync(path.join(SHARED_GUESTS, 'hello.img'), disk); // the VM writes to its disk; never to shared/
  const created = await host.service.call('vm.create', { name: 'Hello', osType: 'other', memoryMiB: 16, bootOrder: ['disk'], storage: [{ bus: 'ide', port: 0, kind: 'disk', path: disk, format: 'raw' }] });
  const id = (created as { id: string }).id;
  await page.goto(host.server.openUrl);
  // Same browser context as the manager: it shares the session cookie, like a window opened from it.
  const display = await context.newPage();
  await display.setViewportSize({ width: 1000, height: 760 });

  await step('Start opens a running machine whose screen shows the guest text', async () => {
    await page.getByRole('option', { name: /Hello/ }).click();
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('vm-state').filter({ hasText: 'Running' }).waitFor();
    await display.goto(`${host.server.url}#/display/${id}`);
    await display.getByTestId('display-state').filter({ hasText: 'Running' }).waitFor();
    await display.getByTestId('screen-text').filter({ hasText: 'HELLO' }).waitFor({ state: 'attached', timeout: 30_000 });
    await display.screenshot({ path: path.join(ARTIFACTS, 'display-hello-screen.png') });
    // The canvas shows the text mode at its native size.
    const size = await display.locator('canvas.screen-canvas').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    assert(size[0] === 720 && size[1] === 400, `canvas is ${size}, expected 720x400 text mode`);
  });

  await step('the serial console tab shows COM1 output', async () => {
    await display.getByRole('tab', { name: 'Serial console' }).click();
    await display.getByTestId('serial-console').getByText('HELLO').waitFor({ timeout: 15_000 });
    await display.screenshot({ path: path.join(ARTIFACTS, 'display-hello-serial.png') });
    await display.getByRole('tab', { name: 'Screen' }).click();
  });

  await step('pause and resume', async () => {
    await display.getByRole('button', { name: 'Pause' }).click();
    await display.getByTestId('display-state').filter({ hasText: 'Paused' }).waitFor();
    await page.getByTestId('vm-state').filter({ hasText: 'Paused' }).waitFor();
    await display.getByRole('button', { name: 'Resume' }).click();
    await display.getByTestId('display-state').filter({ hasText: 'Running' }).waitFor();
  });

  await step('a live snapshot keeps the display attached: COM1 output is shown once', async () => {
    const displaySockets: string[] = [];
    display.on('websocket', (ws) => ws.url().includes('/display/') && displaySockets.push(ws.url()));
    await host.service.call('snapshot.take', { id, name: 'While running' });
    await page.getByTestId('vm-state').filter({ hasText: 'Running' }).waitFor();
    await display.getByTestId('display-state').filter({ hasText: 'Running' }).waitFor();
    await display.getByRole('tab', { name: 'Serial console' }).click();
    const rows = display.getByTestId('serial-console').locator('.xterm-rows');
    const hellos = ((await rows.textContent()) ?? '').split('HELLO').length - 1;
    assert(displaySockets.length === 0, `the display reconnected ${displaySockets.length}× during the snapshot`);
    assert(hellos === 1, `the serial console shows HELLO ${hellos}× (the guest printed it once)`);
    await display.getByRole('tab', { name: 'Screen' }).click();
  });

  await step('killing the VM process shows Aborted and the app keeps working', async () => {
    const pid = host.service.sessions.get(id)?.pid;
    assert(pid, 'no VM process pid');
    process.kill(pid, 'SIGKILL');
    await page.getByTestId('vm-state').filter({ hasText: 'Aborted' }).waitFor();
    await page.getByText(/Aborted: The VM process was killed/).waitFor();
    await display.getByText(/The machine aborted/).waitFor();
  });

  await step('an aborted machine starts again', async () => {
    await page.getByRole('button', { name: 'Start' }).click();
    await page.getByTestId('vm-state').filter({ hasText: 'Running' }).waitFor();
    await display.getByTestId('screen-text').filter({ hasText: 'HELLO' }).waitFor({ state: 'attached', timeout: 30_000 });
  });

  await step('power off', async () => {
    await display.getByRole('button', { name: 'Power Off' }).click();
    await page.getByTestId('vm-state').filter({ hasText: 'Powered Off' }).waitFor();
    await display.getByTestId('display-state').filter({ hasText: 'Powered Off' }).waitFor();
  });

  await step('the VM list shows a thumbnail of the last screen', async () => {
    const thumb = page.locator('.vm-item img.vm-thumb');
    await thumb.waitFor();
    const w = await thumb.evaluate((img: HTMLImageElement) => img.naturalWidth);
    assert(w === 160, `thumbnail is ${w} px wide, expected 160`);
  });
});

// The Media Manager as a user meets it in browser mode: open it from the manager's
// toolbar, create a qcow2 disk, get told off for a bad size, grow the disk, convert
// it to raw with the progress bar visible, cancel another conversion, see clear
// errors for a missing file, delete, attach a disk in VM Settings from the media
// list and release it again. Screenshots of every step go to artifacts/e2e
// (plus media-convert-in-progress.png taken while a conversion runs).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { withE2e, assert, ARTIFACTS } from './harness';

await withE2e(async ({ host, home, page }, step) => {
  const manager = page.getByRole('dialog', { name: 'Media Manager' });
  const table = manager.getByRole('table', { name: 'Hard disks' });
  const row = (name: RegExp) => table.getByRole('row', { name });

  await step('open the Media Manager from the toolbar', async () => {
    await page.goto(host.server.openUrl);
    await page.getByText('Welcome to Boxwood').waitFor();
    await page.getByRole('button', { name: 'Media', exact: true }).click();
    await manager.waitFor();
    await manager.getByText('No hard disks yet').waitFor();
  });

  await step('create a qcow2 disk', async () => {
    await manager.getByRole('button', { name: 'Create…' }).click();
    const form = page.getByRole('dialog', { name: 'Create hard disk' });
    await form.getByLabel('Name').fill('e2e-disk');
    await form.getByLabel('Size').fill('512M');
    await form.getByLabel('Format').selectOption('qcow2');
    await form.getByRole('button', { name: 'Create' }).click();
    await form.waitFor({ state: 'detached' });
    await row(/e2e-disk\.qcow2/).waitFor();
    const text = await row(/e2e-disk\.qcow2/).innerText();
    assert(/512 MiB/.test(text) && /qcow2/.test(text) && /Not attached/.test(text), `unexpected row: ${text}`);
    assert(existsSync(path.join(home, 'media', 'e2e-disk.qcow2')), 'the disk file was not created in <home>/media');
  });

  await step('a bad size is refused with a message', async () => {
    await row(/e2e-disk\.qcow2/).click();
    await manager.getByRole('button', { name: 'Resize…' }).click();
    const form = page.getByRole('dialog', { name: 'Resize e2e-disk.qcow2' });
    await form.getByLabel('New size').fill('lots');
    await form.getByText('“lots” is not a size. Enter a number with an optional unit: 8G, 512M, 100K.').waitFor();
    assert(await form.getByRole('button', { name: 'Resize' }).isDisabled(), 'Resize should be disabled for a bad size');
    await form.getByLabel('New size').fill('256M');
    await form.getByText('Shrinking is not supported: enter at least the current 512 MiB.').waitFor();
    assert(await form.getByRole('button', { name: 'Resize' }).isDisabled(), 'Resize should be disabled for a smaller size');
  });

  await step('resize the disk to 2 GiB', async () => {
    const form = page.getByRole('dialog', { name: 'Resize e2e-disk.qcow2' });
    await form.getByLabel('New size').fill('2G');
    await form.getByRole('button', { name: 'Resize' }).click();
    await form.waitFor({ state: 'detached' });
    await row(/e2e-disk\.qcow2.*2 GiB/).waitFor();
  });

  const label = 'Converting e2e-disk.qcow2 to e2e-disk.img (raw)';
  await step('convert to raw with the progress visible', async () => {
    await row(/e2e-disk\.qcow2/).click();
    await manager.getByRole('button', { name: 'Convert…' }).click();
    const form = page.getByRole('dialog', { name: 'Convert e2e-disk.qcow2' });
    const dst = await form.getByLabel('Destination').inputValue();
    assert(dst === path.join(home, 'media', 'e2e-disk.img'), `unexpected default destination ${dst}`);
    assert((await form.getByLabel('Format').inputValue()) === 'raw', 'convert should default to the other format');
    await form.getByRole('button', { name: 'Convert' }).click();
    await form.waitFor({ state: 'detached' });
    const bar = manager.getByRole('progressbar', { name: label });
    await bar.waitFor();
    // While it runs (if the machine is fast enough to finish first, this shows 100%).
    await page.screenshot({ path: path.join(ARTIFACTS, 'media-convert-in-progress.png') });
    await manager.getByText('Done.').waitFor({ timeout: 60_000 });
    assert((await bar.getAttribute('aria-valuenow')) === '100', 'the finished task should show 100%');
  });

  await step('the table shows the raw copy', async () => {
    await row(/e2e-disk\.img/).waitFor();
    const text = await row(/e2e-disk\.img/).innerText();
    assert(/2 GiB/.test(text) && /\braw\b/.test(text), `unexpected row: ${text}`);
    assert(statSync(path.join(home, 'media', 'e2e-disk.img')).size === 2 * 2 ** 30, 'the raw file should be 2 GiB');
    await manager.getByRole('button', { name: `Dismiss ${label}` }).click();
  });

  await step('cancel a conversion: the source stays, no file is left', async () => {
    await row(/e2e-disk\.qcow2/).click();
    await manager.getByRole('button', { name: 'Convert…' }).click();
    const form = page.getByRole('dialog', { name: 'Convert e2e-disk.qcow2' });
    const dst = path.join(home, 'media', 'cancelled.img');
    await form.getByLabel('Destination').fill(dst);
    await form.getByRole('button', { name: 'Convert' }).click();
    const label2 = 'Converting e2e-disk.qcow2 to cancelled.img (raw)';
    await manager.getByRole('button', { name: `Cancel ${label2}` }).click();
    await manager.getByText('Cancelled. The source is unchanged and no partial file was left behind.').waitFor({ timeout: 30_000 });
    assert(!existsSync(dst), 'a cancelled conversion must leave no destination');
    assert(!readdirSync(path.join(home, 'media')).some((f) => f.includes('boxwood-partial')), 'a cancelled conversion must leave no partial file');
    await row(/e2e-disk\.qcow2.*2 GiB/).waitFor();
    await manager.getByRole('button', { name: `Dismiss ${label2}` }).click();
  });

  await step('adding a missing file says what is wrong', async () => {
    await manager.getByRole('button', { name: 'Add…' }).click();
    const form = page.getByRole('dialog', { name: 'Add medium' });
    await form.getByLabel('Image file').fill('relative.img');
    await form.getByText('Enter a full path, starting with /.').waitFor();
    await form.getByLabel('Image file').fill('/nonexistent/disk.img');
    await form.getByRole('button', { name: 'Add' }).click();
    await form.getByRole('alert').filter({ hasText: 'The image /nonexistent/disk.img does not exist.' }).waitFor();
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
  });

  await step('delete the raw copy', async () => {
    await row(/e2e-disk\.img/).click();
    await manager.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete medium' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'detached' });
    await row(/e2e-disk\.img/).waitFor({ state: 'detached' });
    assert(!existsSync(path.join(home, 'media', 'e2e-disk.img')), 'the file should be gone');
    await manager.getByText('e2e-disk.img was deleted.').waitFor();
  });

  await step('attach the disk in VM Settings from the media list', async () => {
    await manager.getByRole('button', { name: 'Close' }).click();
    await manager.waitFor({ state: 'detached' });
    await host.service.call('vm.create', { name: 'Media VM', osType: 'linux', memoryMiB: 64, storage: [{ bus: 'ide', port: 2, kind: 'cdrom', path: null, format: 'iso' }] });
    await page.getByRole('option', { name: /Media VM/ }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: 'Media VM — Settings' });
    await settings.getByRole('tab', { name: 'Storage' }).click();
    await settings.getByRole('button', { name: 'Add hard disk (IDE primary slave)' }).click();
    const disk = path.join(home, 'media', 'e2e-disk.qcow2');
    await settings.getByLabel('Choose medium for ide 1').selectOption(disk);
    assert((await settings.getByLabel('Image for ide 1').inputValue()) === disk, 'choosing from the list should fill the path');
    await page.screenshot({ path: path.join(ARTIFACTS, 'media-settings-storage.png') });
    await settings.getByRole('button', { name: 'OK' }).click();
    await settings.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Media', exact: true }).click();
    await row(/e2e-disk\.qcow2.*Media VM \(IDE primary slave\)/).waitFor();
  });

  await step('an attached disk cannot be deleted; Release detaches it', async () => {
    await row(/e2e-disk\.qcow2/).click();
    assert(await manager.getByRole('button', { name: 'Delete' }).isDisabled(), 'Delete should be disabled while attached');
    await manager.getByRole('button', { name: 'Release' }).click();
    const confirm = page.getByRole('dialog', { name: 'Release medium' });
    await confirm.getByRole('button', { name: 'Release' }).click();
    await confirm.waitFor({ state: 'detached' });
    await manager.getByText('Released from Media VM.').waitFor();
    await row(/e2e-disk\.qcow2.*Not attached/).waitFor();
    assert(!(await manager.getByRole('button', { name: 'Delete' }).isDisabled()), 'Delete should be enabled once released');
  });
});

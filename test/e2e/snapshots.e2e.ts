// The Snapshots tab and clones in browser mode, on a powered-off machine (no guest
// boot): take snapshots from the toolbar, walk the tree with the keyboard, rename
// through the context menu, restore, make a linked clone of a snapshot, and see the
// snapshot protected while the clone exists.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { withE2e, assert } from './harness';
import type { VmSummary } from '../../protocol/host-api';

// A 2×2 PNG (the snapshot's "screen").
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGNkYPjPwMDAxMDAwMAAAAYIAQEbKtA0AAAAAElFTkSuQmCC', 'base64');

await withE2e(async ({ host, page }, step) => {
  const vm = (await host.service.call('vm.create', { name: 'Snappy', osType: 'linux', memoryMiB: 64, newDisk: { sizeMiB: 16, format: 'qcow2' } })) as VmSummary;
  writeFileSync(path.join(vm.folder, 'thumbnail.png'), PNG);
  const tree = page.getByRole('tree', { name: 'Snapshots' });
  const bar = page.getByRole('toolbar', { name: 'Snapshot actions' });
  /** The tree as indented labels (aria-level). */
  const outline = () => tree.getByRole('treeitem').evaluateAll((els) => els.map((el) => '  '.repeat(Number(el.getAttribute('aria-level')) - 1) + el.getAttribute('aria-label')).join('\n'));
  const expectOutline = async (want: string[]) => {
    for (let i = 0; i < 50 && (await outline()) !== want.join('\n'); i++) await page.waitForTimeout(100);
    assert((await outline()) === want.join('\n'), `tree:\n${await outline()}`);
  };
  const selected = () => tree.locator('[role=treeitem][aria-selected=true]').getAttribute('aria-label');

  await step('the Snapshots tab shows only the Current State', async () => {
    await page.goto(host.server.openUrl);
    await page.getByRole('option', { name: /Snappy/ }).click();
    await page.getByText('Snapshots', { exact: true }).first().waitFor();
    await page.getByRole('tab', { name: 'Snapshots' }).click();
    await tree.getByRole('treeitem', { name: 'Current State' }).waitFor();
    assert((await tree.getByRole('treeitem').count()) === 1, 'only the current state expected');
  });

  await step('take two snapshots from the toolbar (default names)', async () => {
    for (const n of [1, 2]) {
      await bar.getByRole('button', { name: 'Take…' }).click();
      const dlg = page.getByRole('dialog', { name: 'Take Snapshot' });
      assert((await dlg.getByLabel('Snapshot name').inputValue()) === `Snapshot ${n}`, 'default name');
      await dlg.getByRole('button', { name: 'Take' }).click();
      await dlg.waitFor({ state: 'detached' });
    }
    await expectOutline(['Snapshot 1', '  Snapshot 2', '    Current State']);
    await page.getByRole('tab', { name: 'Snapshots (2)' }).waitFor();
  });

  await step('keyboard: Up/Home/End move the selection, F2 opens the properties', async () => {
    await tree.getByRole('treeitem', { name: 'Current State' }).click();
    await page.keyboard.press('ArrowUp');
    assert((await selected()) === 'Snapshot 2', `selected ${await selected()}`);
    await page.keyboard.press('Home');
    assert((await selected()) === 'Snapshot 1', `selected ${await selected()}`);
    await page.keyboard.press('End');
    assert((await selected()) === 'Current State', `selected ${await selected()}`);
    await page.keyboard.press('Home');
    await page.keyboard.press('F2');
    const dlg = page.getByRole('dialog', { name: 'Snapshot Properties' });
    await dlg.getByLabel('Name').fill('Installed');
    await dlg.getByLabel('Description').fill('fresh install');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await tree.getByRole('treeitem', { name: 'Installed' }).waitFor();
    await page.getByRole('complementary', { name: 'Snapshot details' }).getByText('fresh install').waitFor();
    await page.getByRole('img', { name: 'Screen of Installed' }).waitFor();
  });

  await step('context menu (Shift+F10): restore "Installed"', async () => {
    await tree.getByRole('treeitem', { name: 'Installed' }).click();
    await page.keyboard.press('Shift+F10');
    await page.getByRole('menu', { name: 'Snapshot menu' }).getByRole('menuitem', { name: 'Restore' }).click();
    const dlg = page.getByRole('dialog', { name: 'Restore Snapshot' });
    await dlg.getByRole('button', { name: 'Restore' }).click();
    await dlg.waitFor({ state: 'detached' });
    await expectOutline(['Installed', '  Snapshot 2', '  Current State']);
  });

  await step('right-click → Clone…: a linked clone of "Installed" appears in the list', async () => {
    await tree.getByRole('treeitem', { name: 'Installed' }).click({ button: 'right' });
    await page.getByRole('menu', { name: 'Snapshot menu' }).getByRole('menuitem', { name: 'Clone…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Clone Snappy' });
    await dlg.getByLabel('Name of the new machine').fill('Snappy Linked');
    assert(await dlg.getByLabel('Linked clone').isChecked(), 'linked preselected for a snapshot');
    assert((await dlg.getByLabel('Clone from').locator('option:checked').innerText()) === 'Snapshot: Installed', 'clone from Installed');
    await dlg.getByRole('button', { name: 'Clone' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.getByRole('option', { name: /Snappy Linked/ }).waitFor();
  });

  await step('deleting the snapshot behind the linked clone is refused plainly', async () => {
    await page.getByRole('option', { name: /^Snappy/ }).first().click();
    await page.getByRole('tab', { name: /Snapshots/ }).click();
    await tree.getByRole('treeitem', { name: 'Installed' }).click();
    await page.keyboard.press('Delete');
    const dlg = page.getByRole('dialog', { name: 'Delete Snapshot' });
    await dlg.getByRole('button', { name: 'Delete' }).click();
    const alert = dlg.getByRole('alert');
    await alert.waitFor();
    assert(/"Installed" cannot be deleted.*linked clone "Snappy Linked"/.test(await alert.innerText()), await alert.innerText());
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    assert((await page.getByRole('option').count()) === 2, 'the machine itself must not have been deleted by the Delete key');
  });

  await step('manager toolbar Clone…: a full clone of the current state', async () => {
    await page.getByRole('navigation', { name: 'Machine actions' }).getByRole('button', { name: 'Clone…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Clone Snappy' });
    await dlg.getByLabel('Name of the new machine').fill('Snappy Full');
    assert(await dlg.getByLabel('Full clone').isChecked(), 'full for the current state');
    await dlg.getByRole('button', { name: 'Clone' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.getByRole('option', { name: /Snappy Full/ }).waitFor();
  });
});

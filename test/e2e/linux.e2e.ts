// The real Linux guest through the app, as a user meets it, on one boot (a boot costs
// minutes of a core, so every scenario that needs a running Linux shares it):
//  - issue 4: create the VM through the wizard with linux-686.iso and a new disk, start
//    it, see the guest's ready marker on the screen (accessible text) and in the serial
//    console, run a command through the serial console and through the VGA console,
//    pause and resume, and at the end power the guest off from inside (ACPI S5);
//  - issue 5: take a snapshot of the running guest, change its disk (a file on an ext2
//    filesystem, shown on the serial console), restore the snapshot (the file is gone and
//    the guest runs on from the snapshot point), make a branch, delete snapshots while it
//    runs, and make a linked clone of a snapshot.
// Commands typed into the guest print computed text ($((6*7)) → 42) so that the echo of
// the typed line itself never matches what the step waits for.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { withE2e, assert, SHARED_GUESTS, ARTIFACTS } from './harness';
import { openDiskImage } from '../../electron/node/storage/open-image';
import type { VmSummary } from '../../protocol/host-api';

const ISO = path.join(SHARED_GUESTS, 'linux-686.iso');
const BOOT_TIMEOUT = Number(process.env.BOXWOOD_E2E_BOOT_TIMEOUT_MS ?? 1_800_000);
/** The workload line, as QEMU's serial log of the same guest has it (../shared/guests/linux-686.serial.log). */
const WORKLOAD = 'GUEST-WORKLOAD-DONE md5=a8177876b2886cb74338f9a050089431 loop=479161';

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  for (const end = Date.now() + timeoutMs; !cond(); await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

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
  let vm: VmSummary | undefined;
  await page.goto(host.server.openUrl);
  let display: Page = page;
  const serial = () => display.getByTestId('serial-console');
  /** Type a command line into the serial console and wait for `expect` in its output. */
  const shell = async (command: string, expect: string | RegExp, timeout = 60_000) => {
    await display.bringToFront();
    await display.getByRole('tab', { name: 'Serial console' }).click();
    await serial().click();
    await display.keyboard.type(`${command}\n`);
    await serial().getByText(expect).last().waitFor({ timeout });
  };
  /** The Linux VM's row in the manager's list (a clone joins the list later). */
  const row = () => page.locator('li[role=option][data-vm-name="Linux"]');
  const vmState = (state: string | RegExp) => row().getByTestId('vm-state').filter({ hasText: state });
  const tree = page.getByRole('tree', { name: 'Snapshots' });
  const outline = () => tree.getByRole('treeitem').evaluateAll((els) => els.map((el) => '  '.repeat(Number(el.getAttribute('aria-level')) - 1) + el.getAttribute('aria-label')).join('\n'));
  const expectOutline = async (want: string[]) => {
    for (let i = 0; i < 100 && (await outline()) !== want.join('\n'); i++) await page.waitForTimeout(100);
    assert((await outline()) === want.join('\n'), `snapshot tree:\n${await outline()}\nexpected:\n${want.join('\n')}`);
  };
  const manager = async () => {
    await page.bringToFront();
    await row().click();
    await page.getByRole('tab', { name: /^Snapshots/ }).click();
    await tree.getByRole('treeitem', { name: 'Current State' }).waitFor();
  };
  const takeSnapshot = async (name: string) => {
    await manager();
    await page.getByRole('toolbar', { name: 'Snapshot actions' }).getByRole('button', { name: 'Take…' }).click();
    const dlg = page.getByRole('dialog', { name: 'Take Snapshot' });
    await dlg.getByText(/is running: the snapshot saves its disks and the running machine/).waitFor();
    await dlg.getByLabel('Snapshot name').fill(name);
    await dlg.getByRole('button', { name: 'Take' }).click();
    await dlg.waitFor({ state: 'detached', timeout: 180_000 });
    await vmState('Running').waitFor();
  };
  const snapshotMenu = async (name: string, item: string) => {
    await tree.getByRole('treeitem', { name }).click({ button: 'right' });
    await page.getByRole('menu', { name: 'Snapshot menu' }).getByRole('menuitem', { name: item }).click();
  };
  /** Start from the manager; the display window (opened or reused by name) is returned, in front. */
  const startAndShow = async (): Promise<Page> => {
    const opened = context.waitForEvent('page', { timeout: 10_000 }).catch(() => null);
    await page.getByRole('button', { name: 'Start' }).click();
    const w = (await opened) ?? context.pages().find((p) => p.url().includes('#/display/'));
    assert(w, 'Start did not open the display window');
    await w.setViewportSize({ width: 1000, height: 760 });
    await w.bringToFront(); // a background tab gets no animation frames, and Playwright waits for them
    return w;
  };

  await step('create the Linux VM through the wizard (linux-686.iso and a new 64 MiB qcow2 disk)', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('Linux');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Base memory (MiB)').fill('128');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/Create a new disk/).check();
    await page.getByLabel('Size (MiB)').fill('64');
    await page.getByRole('combobox', { name: /^Format/ }).selectOption('qcow2');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/ISO image/).fill(ISO);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Finish' }).click();
    await page.getByRole('option', { name: /Linux/ }).waitFor();
    vm = host.service.list().find((v) => v.config?.name === 'Linux');
    assert(vm, 'VM not in the library');
  });

  await step('start it: ISOLINUX, GUEST-READY on the screen and in the serial console, the workload as under QEMU', async () => {
    display = await startAndShow();
    await withProgress(display, display.getByTestId('screen-text').filter({ hasText: 'GUEST-READY' }).waitFor({ state: 'attached', timeout: BOOT_TIMEOUT }));
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-ready-screen.png') });
    await display.getByRole('tab', { name: 'Serial console' }).click();
    await serial().getByText('GUEST-READY').first().waitFor();
    // The whole COM1 log, as the host keeps it (xterm.js keeps only the visible rows in the
    // DOM): the boot loader's banner, then the workload line exactly as in QEMU's log and
    // the device probe, which sees the new disk and the CD drive as QEMU's guest does.
    let log = '';
    const detach = host.service.runningSession(vm!.id).attachDisplay((m) => {
      if (m.type === 'serial-output' && m.port === 0) log += Buffer.from(m.data).toString('latin1');
    });
    try {
      const seen = (text: string) => withProgress(display, waitUntil(() => log.includes(text), BOOT_TIMEOUT, `"${text}" on COM1`));
      await seen('ISOLINUX');
      await seen(WORKLOAD);
      await seen('GUEST-DEVICES disks=sda,sr0 virtio=none net=none');
      await seen('guest# ');
    } finally {
      detach();
    }
    await serial().getByText('guest#').last().waitFor();
  });

  await step('type a command into the serial console and see its output', async () => {
    await shell('echo serial-$((6*7))', 'serial-42');
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-serial-console.png') });
  });

  await step('type on the VGA console (tty1) and see the result on screen', async () => {
    await display.getByRole('tab', { name: 'Screen' }).click();
    await display.locator('.screen').click(); // capture the keyboard
    await display.getByText('Keyboard captured').waitFor();
    // Playwright types '$' or '*' as the bare key (Digit4, Digit8) without pressing Shift,
    // and the display sends physical keys: so the command uses only unshifted keys.
    const typing = Date.now();
    await display.keyboard.type('echo -n vga-; seq 42 42\n', { delay: 20 });
    console.log(`  typed 24 keys in ${((Date.now() - typing) / 1000).toFixed(1)} s`);
    await display.getByTestId('screen-text').filter({ hasText: 'vga-42' }).waitFor({ state: 'attached', timeout: 60_000 });
    await display.keyboard.press('ControlRight'); // the host key releases the keyboard
    await display.getByText('Click the screen to capture').waitFor();
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-vga-console.png') });
  });

  await step('pause and resume', async () => {
    await display.bringToFront();
    await display.getByRole('button', { name: 'Pause' }).click();
    await vmState('Paused').waitFor();
    await display.getByTestId('display-state').filter({ hasText: 'Paused' }).waitFor();
    await display.getByRole('button', { name: 'Resume' }).click();
    await vmState('Running').waitFor();
    await shell('echo resumed-$((6*7))', 'resumed-42');
  });

  await step('snapshot "Clean" of the running guest, with a file system on its disk', async () => {
    await shell('mke2fs -q /dev/sda && mkdir -p /mnt && mount /dev/sda /mnt && echo base-$((6*7)) > /mnt/base.txt && sync && echo fs-$((6*7))', 'fs-42', 120_000);
    await takeSnapshot('Clean');
    await expectOutline(['Clean', '  Current State']);
  });

  await step('change the disk: a new file, shown on the serial console; snapshot "With note"', async () => {
    await shell('echo note-$((40+2)) > /mnt/note.txt && sync && cat /mnt/note.txt', 'note-42');
    await takeSnapshot('With note');
    await expectOutline(['Clean', '  With note', '    Current State']);
  });

  await step('restore "Clean" (power off and restore): the guest runs on from there and the file is gone', async () => {
    await manager();
    await snapshotMenu('Clean', 'Restore');
    const dlg = page.getByRole('dialog', { name: 'Restore Snapshot' });
    await dlg.getByRole('button', { name: 'Power off and restore' }).click();
    await dlg.waitFor({ state: 'detached', timeout: 120_000 });
    await vmState(/Powered Off|Saved/).waitFor();
    // The tree branches: "With note" stays, the current state is a new child of "Clean".
    await expectOutline(['Clean', '  With note', '  Current State']);
    display = await startAndShow();
    await vmState('Running').waitFor({ timeout: 120_000 });
    // Same shell, same mounted file system, no boot: the prompt answers at once.
    await shell('cat /mnt/base.txt; cat /mnt/note.txt || echo gone-$((40+2))', 'gone-42');
    await serial().getByText('base-42').last().waitFor();
    await display.screenshot({ path: path.join(ARTIFACTS, 'linux-restored.png') });
  });

  await step('a branch: write another file and take "Branch" beside "With note"', async () => {
    await shell('echo branch-$((40+2)) > /mnt/branch.txt && sync && cat /mnt/branch.txt', 'branch-42');
    await takeSnapshot('Branch');
    await expectOutline(['Clean', '  With note', '  Branch', '    Current State']);
  });

  await step('delete snapshots while the guest runs ("With note", then "Branch" under the current state)', async () => {
    for (const name of ['With note', 'Branch']) {
      await manager();
      await snapshotMenu(name, 'Delete');
      const dlg = page.getByRole('dialog', { name: 'Delete Snapshot' });
      await dlg.getByRole('button', { name: 'Delete' }).click();
      await dlg.waitFor({ state: 'detached', timeout: 180_000 });
    }
    await expectOutline(['Clean', '  Current State']);
    // The guest still reads its disk (page cache dropped: the blocks come from the merged image).
    await shell('sync; echo 3 > /proc/sys/vm/drop_caches; cat /mnt/branch.txt /mnt/base.txt | tr a-z A-Z', 'BRANCH-42');
    await serial().getByText('BASE-42').last().waitFor();
  });

  await step('clone: a linked clone of "Clean" holds the disk as it was then', async () => {
    await manager();
    await snapshotMenu('Clean', 'Clone…');
    const dlg = page.getByRole('dialog', { name: 'Clone Linux' });
    await dlg.getByLabel('Name of the new machine').fill('Linux Clean');
    assert(await dlg.getByLabel('Linked clone').isChecked(), 'linked preselected for a snapshot');
    await dlg.getByRole('button', { name: 'Clone' }).click();
    await dlg.waitFor({ state: 'detached', timeout: 120_000 });
    await page.getByRole('option', { name: /Linux Clean/ }).waitFor();
    // The clone's disk, read through its chain (overlay → the snapshot's frozen layer): the
    // file written before "Clean" is there, the later ones are not.
    const clone = host.service.list().find((v) => v.config?.name === 'Linux Clean');
    const disk = clone?.config?.storage.find((a) => a.kind === 'disk')?.path;
    assert(clone && disk, 'the clone has no disk');
    const img = openDiskImage(path.resolve(clone.folder, disk));
    try {
      const bytes = Buffer.alloc(img.size);
      img.read(0, bytes, 0, img.size);
      assert(bytes.includes('base-42\n'), 'the clone lacks /mnt/base.txt');
      assert(!bytes.includes('note-42\n') && !bytes.includes('branch-42\n'), 'the clone has data written after "Clean"');
    } finally {
      img.close();
    }
  });

  await step('shut the guest down from inside (poweroff through ACPI S5)', async () => {
    // COM1 as the host receives it, to say where the guest got to if it does not power off.
    const session = host.service.runningSession(vm!.id);
    let tail = '';
    const detach = session.attachDisplay((m) => {
      if (m.type === 'serial-output' && m.port === 0) tail = (tail + Buffer.from(m.data).toString('latin1')).slice(-600);
    });
    try {
      tail = '';
      await shell('umount /mnt; poweroff -f', 'poweroff -f').catch(() => {}); // the echo may not reach the screen before the VM stops
      await vmState('Powered Off').waitFor({ timeout: 120_000 });
    } catch (e) {
      throw new Error(`${(e as Error).message.split('\n')[0]}\n  COM1 since the command: ${JSON.stringify(tail)}\n  VM log: ${session.log.slice(-8).join(' | ')}`);
    } finally {
      detach();
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'linux-powered-off.png') });
  });
});

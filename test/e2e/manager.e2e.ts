// The manager as a user meets it in browser mode: the token gate, the New-VM
// wizard with bad and good input, Inaccessible machines, settings and deletion.
import { writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { withE2e, assert, SHARED_GUESTS } from './harness';

const ISO = path.join(SHARED_GUESTS, 'linux-686.iso');

function status(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) =>
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    }).on('error', reject),
  );
}

await withE2e(async ({ host, home, page }, step) => {
  await step('request without the token is refused with a clear message', async () => {
    const r = await status(host.server.url);
    assert(r.code === 401, `expected 401, got ${r.code}`);
    assert(/access token/.test(r.body), `unexpected body: ${r.body}`);
    await page.goto(host.server.url);
    await page.getByText('needs its access token').waitFor();
  });

  await step('opening the token URL shows the empty manager', async () => {
    await page.goto(host.server.openUrl);
    await page.getByText('Welcome to Boxwood').waitFor();
    await page.getByText('Hardware virtualization', { exact: true }).waitFor();
  });

  const openWizard = async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await page.getByRole('dialog').waitFor();
  };

  await step('wizard rejects an empty name', async () => {
    await openWizard();
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('x');
    await name.fill('');
    await page.getByText('Enter a name for the virtual machine.').waitFor();
    assert(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'Next should be disabled for an empty name');
  });

  await step('wizard rejects absurd memory', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Linux 686');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Base memory (MiB)').fill('99999999');
    await page.getByText(/At most .* on this host/).waitFor();
    assert(await page.getByRole('button', { name: 'Next' }).isDisabled(), 'Next should be disabled for absurd memory');
    await page.getByLabel('Base memory (MiB)').fill('128');
    await page.getByRole('button', { name: 'Next' }).click();
  });

  await step('wizard rejects a missing ISO', async () => {
    await page.getByLabel('Size (MiB)').fill('64');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel(/ISO image/).fill('/nonexistent/disc.iso');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('No file at /nonexistent/disc.iso').waitFor();
  });

  await step('wizard creates the VM with the Linux ISO', async () => {
    await page.getByLabel(/ISO image/).fill(ISO);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Summary').waitFor();
    await page.getByRole('button', { name: 'Finish' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('option', { name: /Linux 686/ }).waitFor();
    await page.getByText(ISO).waitFor();
  });

  await step('wizard rejects a duplicate name', async () => {
    await openWizard();
    await page.getByLabel('Name', { exact: true }).fill('linux 686');
    await page.getByText('A virtual machine named “linux 686” already exists.').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  await step('a corrupt vm.json shows as Inaccessible with the reason', async () => {
    const dir = path.join(home, 'machines', 'Broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'vm.json'), '{"schemaVersion": 1, "name": ');
    await page.reload();
    await page.getByRole('option', { name: /Broken/ }).click();
    await page.getByText('Inaccessible machine').waitFor();
    await page.getByText(/vm.json is not valid JSON/).waitFor();
    // The good machine is unaffected.
    await page.getByRole('option', { name: /Linux 686/ }).click();
    await page.getByText('Powered Off').first().waitFor();
  });

  await step('settings change memory and save', async () => {
    await page.getByRole('option', { name: /Linux 686/ }).click();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('tab', { name: 'System' }).click();
    await page.getByLabel('Base memory (MiB)').fill('160');
    await page.getByRole('button', { name: 'OK' }).click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByText('160 MiB').waitFor();
  });
});

// The people around a setup, in a real browser: an administrator activates a company and syncs
// it, rolls back the latest night and presses Sync now again (each document is posted once more;
// the test counts them in QuickBooks), invites an accountant from People, and the accountant
// signs in from the link in the demo outbox and changes a second company's draft.
// Usage: node people.js APP_URL TRACKTIK_URL OUT_DIR
// Exits non-zero, with the reason, on the first step that does not behave.
const { chromium } = require('playwright-core');
const [app, tracktik, out] = process.argv.slice(2);

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let step = 0;
  const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  let current = admin;
  const shot = async (page, name) => page.screenshot({ path: `${out}/${String(++step).padStart(2, '0')}-${name}.png`, fullPage: true });
  // Sync now, then wait for the worker to finish the run (the page reloads itself at the end).
  const syncNow = async (page) => {
    await page.click('button:has-text("Sync now")');
    await page.waitForLoadState();
    await page.waitForSelector('section.live', { state: 'detached', timeout: 180000 });
    await page.waitForLoadState();
  };
  try {
    await admin.goto(app + '/');
    await admin.fill('#portal', tracktik);
    await admin.click('button:has-text("Sign in with TrackTik")');
    await admin.waitForSelector('#username');
    await admin.fill('#username', 'demo');
    await admin.fill('#password', 'demo');
    await admin.click('button[type=submit]');
    await admin.waitForSelector('button[value=allow]');
    await admin.click('button[value=allow]');
    await admin.waitForURL('**/integrations');
    await admin.click('button:has-text("Connect new account")');
    await admin.waitForSelector('#realm_id');
    await admin.selectOption('#realm_id', '9341453000000001');
    await admin.click('button[value=allow]');
    await admin.waitForURL('**/setup/method');
    const integrationUrl = admin.url().replace(/\/setup\/method$/, '');
    await admin.check('input[value=express]');
    await admin.click('button[value=save]');
    for (const name of ['regions', 'billing', 'payroll', 'taxes', 'schedule']) {
      await admin.waitForURL(`**/setup/${name}`);
      if (name === 'schedule') {
        const start = new Date(Date.now() - 10 * 86400e3).toISOString().slice(0, 10);
        await admin.fill('#start_date', start);
      }
      await admin.click('button[value=save]');
    }
    await admin.waitForURL('**/setup/review');
    await admin.click('button:has-text("Save + Continue")');
    await admin.waitForURL(integrationUrl);
    // Activation says what happens tonight and where to watch.
    const activated = await admin.content();
    expect(activated.includes('is active. The first sync runs at'), 'activation is confirmed in words');
    await shot(admin, 'activated');
    await syncNow(admin);
    await shot(admin, 'dashboard-synced');

    // Roll back the latest night that posted something.
    await admin.click('a.night__action >> nth=0');
    await admin.waitForURL(/\/nights\/\d{4}-\d{2}-\d{2}\/rollback$/);
    expect((await admin.textContent('h1')).includes('Roll back the night of'), 'the confirmation names the night');
    await shot(admin, 'rollback-confirm');
    await admin.setViewportSize({ width: 390, height: 844 });
    await shot(admin, 'rollback-confirm-phone');
    await admin.setViewportSize({ width: 1280, height: 900 });
    await admin.click('button:has-text("Roll back")');
    await admin.waitForURL(integrationUrl);
    // The page says it is queued, unless the worker was quicker and the page already reloaded.
    // (The page may be reloading itself just then: read it again until it has settled.)
    let asked = '';
    for (let i = 0; i < 20 && !/is queued|going on|undone in QuickBooks/.test(asked); i++) {
      if (i > 0) await admin.waitForTimeout(250);
      asked = await admin.content().catch(() => '');
    }
    expect(/is queued|going on|undone in QuickBooks/.test(asked), 'the rollback is queued');
    // The worker voids and deletes; the night's line says so when it is done.
    // (The page may reload itself while the job runs, so a navigation can be cut short.)
    for (let i = 0; i < 120; i++) {
      await admin.waitForTimeout(1000);
      await admin.goto(integrationUrl).catch(() => {});
      if ((await admin.content().catch(() => '')).includes('undone in QuickBooks')) break;
    }
    expect((await admin.content()).includes('undone in QuickBooks'), 'the night says it was rolled back');
    await shot(admin, 'rolled-back');
    await syncNow(admin);
    await shot(admin, 'synced-again');

    // Invite an accountant; a second company is left as a draft for them.
    await admin.goto(app + '/integrations');
    await admin.click('button:has-text("Connect new account")');
    await admin.waitForSelector('#realm_id');
    await admin.selectOption('#realm_id', '9341453000000002');
    await admin.click('button[value=allow]');
    await admin.waitForURL('**/setup/method');
    const draftUrl = admin.url().replace(/\/setup\/method$/, '');
    await admin.click('a:has-text("Invite your accountant or bookkeeper")');
    await admin.waitForURL('**/members');
    await admin.fill('#name', 'Jane Ledger');
    await admin.fill('#email', 'jane@books.example');
    await shot(admin, 'invite');
    await admin.click('button:has-text("Send invitation")');
    await admin.waitForURL('**/members');
    expect(await admin.isVisible('text=Invitation sent to jane@books.example'), 'the invitation is sent');
    await shot(admin, 'invited');
    await admin.goto(app + '/demo/outbox');
    const link = await admin.getAttribute('a[href*="/sign-in/link?token="]', 'href');
    expect(link, 'the outbox holds the sign-in link');
    await shot(admin, 'outbox');

    // Jane, in a browser of her own.
    const jane = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    current = jane;
    await jane.goto(link);
    await shot(jane, 'accountant-link');
    await jane.click('button:has-text("Sign in")');
    await jane.waitForLoadState();
    await jane.goto(draftUrl + '/setup/method');
    expect((await jane.content()).includes('Jane Ledger'), 'the accountant is signed in as herself');
    await jane.check('input[value=advanced]');
    await jane.click('button[value=save]');
    await jane.waitForURL('**/setup/regions');
    await shot(jane, 'accountant-edits-draft');
    console.log(`ok: ${step} steps, screenshots in ${out}`);
  } catch (e) {
    await shot(current, 'failure').catch(() => {});
    console.error(`step ${step + 1} failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();

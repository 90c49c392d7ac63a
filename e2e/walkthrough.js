// A newcomer's first visit, in a real browser: sign in with TrackTik, connect QuickBooks Online,
// finish Express setup through every wizard step and activate, ask for an expert on a second
// company's draft; Sync now runs while the page follows it, then the posted documents and a
// failure are opened; then a staff member finds the customer and the request in the console.
// Usage: QUICKBOOKS_SANDBOX=URL node walkthrough.js APP_URL TRACKTIK_URL STAFF_EMAIL STAFF_PASSWORD OUT_DIR
// Exits non-zero, with the reason, on the first step that does not behave.
const { chromium } = require('playwright-core');
const [app, tracktik, staffEmail, staffPassword, out] = process.argv.slice(2);

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
  const customer = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shot = async (page, name) => page.screenshot({ path: `${out}/${String(++step).padStart(2, '0')}-${name}.png`, fullPage: true });
  try {
    await customer.goto(app + '/');
    await shot(customer, 'landing');
    await customer.fill('#portal', tracktik);
    await customer.click('button:has-text("Sign in with TrackTik")');
    await customer.waitForSelector('#username');
    await shot(customer, 'tracktik-sign-in');
    await customer.fill('#username', 'demo');
    await customer.fill('#password', 'demo');
    await customer.click('button[type=submit]');
    await customer.waitForSelector('button[value=allow]');
    await shot(customer, 'tracktik-allow');
    await customer.click('button[value=allow]');
    await customer.waitForURL('**/integrations');
    expect((await customer.textContent('h1')).includes('QuickBooks Online companies'), 'the integrations page follows sign-in');
    await shot(customer, 'integrations-empty');
    await customer.click('button:has-text("Connect new account")');
    await customer.waitForSelector('#realm_id');
    await shot(customer, 'quickbooks-consent');
    await customer.selectOption('#realm_id', '9341453000000001');
    await customer.click('button[value=allow]');
    // A new company goes straight into the wizard.
    await customer.waitForURL('**/setup/method');
    expect((await customer.content()).includes('Acme Security Inc. (US)'), 'the wizard names the connected company');
    await shot(customer, 'connected');
    const integrationUrl = customer.url().replace(/\/setup\/method$/, '');
    await customer.setViewportSize({ width: 390, height: 844 });
    await shot(customer, 'connected-phone');
    await customer.setViewportSize({ width: 1280, height: 900 });

    // The wizard, Express: every step, then Save + Continue on the review.
    await shot(customer, 'wizard-method');
    await customer.check('input[value=express]');
    await customer.click('button[value=save]');
    for (const step of ['regions', 'billing', 'payroll', 'taxes', 'schedule']) {
      await customer.waitForURL(`**/setup/${step}`);
      if (step === 'schedule') {
        // Start 30 days back, so Sync now has a month of invoices and pay runs to post.
        const start = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
        await customer.fill('#start_date', start);
      }
      await shot(customer, `wizard-${step}`);
      await customer.click('button[value=save]');
    }
    await customer.waitForURL('**/setup/review');
    await shot(customer, 'wizard-review');
    expect((await customer.content()).includes('TrackTik Direct Wages'), 'the review lists what Express created');
    await customer.click('button:has-text("Save + Continue")');
    await customer.waitForLoadState();
    await shot(customer, 'activated');
    const activated = await customer.content();
    expect(activated.includes('Active'), 'the integration is active after Save + Continue');

    // The activated company's dashboard: Sync now is queued once and shows its progress box; a
    // back-sync range that ends before it starts is refused next to the field; the documents
    // page and a preview (nothing written).
    // Meanwhile the bookkeeper closes the QuickBooks books until 7 days ago (done here through
    // the sandbox's control API): the older documents will fail, with a reason and a fix.
    const closed = new Date(Date.now() - 7 * 86400e3).toISOString().slice(0, 10);
    const closing = await fetch(`${process.env.QUICKBOOKS_SANDBOX}/__sandbox/companies/9341453000000001/settings`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ book_close_date: closed }),
    });
    expect(closing.ok, 'the QuickBooks sandbox closes the books');
    await customer.goto(integrationUrl);
    expect((await customer.content()).includes('Sync by hand'), 'the dashboard offers the manual controls');
    await shot(customer, 'dashboard');
    await customer.click('button:has-text("Sync now")');
    await customer.waitForLoadState();
    expect(await customer.isVisible('text=Sync queued'), 'Sync now says it is queued');
    await shot(customer, 'dashboard-sync-queued');
    // A worker picks the run up; the bar follows it over Server-Sent Events and the page
    // reloads itself when the run ends.
    await customer.waitForFunction(() => {
      const phase = document.querySelector('[data-progress-phase]');
      return !phase || phase.textContent.includes('Running');
    }, null, { timeout: 60000 });
    await shot(customer, 'dashboard-sync-running');
    await customer.waitForSelector('section.live', { state: 'detached', timeout: 180000 });
    await customer.waitForLoadState();
    const after = await customer.content();
    expect(!after.includes('Sync in progress'), 'the progress box goes once the run ends');
    await shot(customer, 'dashboard-after-sync');
    // What was posted: invoices and pay runs, each with its QuickBooks link.
    await customer.goto(integrationUrl + '/documents?state=posted');
    const posted = await customer.content();
    expect(posted.includes('View in QuickBooks'), 'posted documents link to QuickBooks');
    expect(/invoice/i.test(posted), 'posted invoices are listed');
    expect(/pay run/i.test(posted), 'posted pay runs are listed');
    await shot(customer, 'documents-posted');
    // A failure, in words, with what to do about it.
    await customer.goto(integrationUrl + '/documents?state=failed');
    const failed = await customer.content();
    expect(failed.includes('What failed, by reason'), 'failures are grouped by reason');
    expect(/what to do/i.test(failed), 'each failure says what to do, once per cause');
    await shot(customer, 'documents-failed');
    await customer.setViewportSize({ width: 390, height: 844 });
    await shot(customer, 'documents-failed-phone');
    await customer.setViewportSize({ width: 1280, height: 900 });
    await customer.goto(integrationUrl);
    await customer.fill('#from', '2026-01-10');
    await customer.fill('#to', '2026-01-01');
    await customer.click('button:has-text("Back-sync")');
    await customer.waitForSelector('#to-error');
    expect((await customer.inputValue('#from')) === '2026-01-10', 'the back-sync form keeps what was typed');
    await shot(customer, 'dashboard-back-sync-error');
    await customer.goto(integrationUrl + '/documents');
    expect((await customer.textContent('h1')).includes('Every document'), 'the documents page opens');
    await shot(customer, 'documents');
    await customer.goto(integrationUrl + '/preview');
    expect((await customer.textContent('h1')).includes('What a sync would post now'), 'the preview opens');
    await shot(customer, 'preview');

    // A second company, left as a draft with a request for an expert.
    await customer.goto(app + '/integrations');
    await customer.click('button:has-text("Connect new account")');
    await customer.waitForSelector('#realm_id');
    await customer.selectOption('#realm_id', '9341453000000002');
    await customer.click('button[value=allow]');
    await customer.waitForURL('**/setup/method');
    // Book a session in a free slot; the demo outbox then holds both e-mails with the .ics.
    await customer.click('a:has-text("Talk to an expert")');
    await customer.waitForSelector('input[name=slot]');
    await customer.check('input[name=slot] >> nth=0');
    await customer.fill('#topic', 'Our bookkeeper wants to map pay codes to separate accounts.');
    await shot(customer, 'expert-book');
    await customer.setViewportSize({ width: 390, height: 844 });
    await shot(customer, 'expert-book-phone');
    await customer.setViewportSize({ width: 1280, height: 900 });
    await customer.click('button:has-text("Book the session")');
    await customer.waitForURL(/\/sessions\/[0-9a-f-]+$/);
    await shot(customer, 'expert-booked');
    await customer.goto(app + '/demo/outbox');
    const outbox = await customer.content();
    expect((outbox.match(/invite\.ics/g) || []).length >= 2, 'both e-mails carry the invitation');
    await shot(customer, 'outbox');

    const staff = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await staff.goto(app + '/staff/sign-in');
    await staff.fill('#email', staffEmail);
    await staff.fill('#password', staffPassword);
    await staff.click('button[type=submit]');
    await staff.waitForURL('**/support');
    await shot(staff, 'console');
    await staff.click('table a');
    await staff.waitForURL('**/support/tenants/*');
    expect((await staff.content()).includes('Acme Security Inc. (US)'), 'staff see the connected company');
    await shot(staff, 'console-tenant');
    // Every run across tenants: the table fits the page, its last column included.
    await staff.goto(app + '/support/runs');
    const lastHeader = await staff.locator('table thead th >> nth=-1').boundingBox();
    expect(lastHeader && lastHeader.x + lastHeader.width <= 1280, 'the runs table fits the page');
    await shot(staff, 'console-runs');
    await staff.goto(app + '/support/sessions');
    await shot(staff, 'console-sessions');
    await staff.click('table a');
    await staff.waitForURL(/\/support\/sessions\/[0-9a-f-]+$/);
    expect((await staff.content()).includes('Our bookkeeper wants'), 'staff read what the customer needs');
    await shot(staff, 'console-session-draft');
    await staff.goto(app + '/support/drafts');
    await shot(staff, 'console-drafts');
    // The same dashboard, read-only: no controls, and the view is audited.
    await staff.goto(integrationUrl.replace('/integrations/', '/support/integrations/'));
    expect((await staff.content()).includes('read-only'), 'staff see the dashboard read-only');
    expect(!(await staff.isVisible('button:has-text("Sync now")')), 'staff get no controls');
    await shot(staff, 'console-dashboard');
    console.log(`ok: ${step} steps, screenshots in ${out}`);
  } catch (e) {
    await shot(customer, 'failure').catch(() => {});
    console.error(`step ${step + 1} failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();

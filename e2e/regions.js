// Three TrackTik regions into two QuickBooks companies, in a real browser: the US company takes
// New York (billing in USD), the Canadian one Ontario and British Columbia (CAD); each is set up
// with Express, activated and synced. The test then counts each company's documents in
// QuickBooks.
// Usage: node regions.js APP_URL TRACKTIK_URL OUT_DIR
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const shot = async (name) => page.screenshot({ path: `${out}/${String(++step).padStart(2, '0')}-${name}.png`, fullPage: true });
  // Connects a company, runs Express with the proposed regions from 30 days back, activates it
  // and syncs it; `name` labels the screenshots.
  const setUp = async (realm, name) => {
    await page.goto(app + '/integrations');
    await page.click('button:has-text("Connect new account")');
    await page.waitForSelector('#realm_id');
    await page.selectOption('#realm_id', realm);
    await page.click('button[value=allow]');
    await page.waitForURL('**/setup/method');
    const url = page.url().replace(/\/setup\/method$/, '');
    await page.check('input[value=express]');
    await page.click('button[value=save]');
    await page.waitForURL('**/setup/regions');
    await shot(`${name}-regions`);
    for (const next of ['billing', 'payroll', 'taxes', 'schedule']) {
      await page.click('button[value=save]');
      await page.waitForURL(`**/setup/${next}`);
      if (next === 'taxes') await shot(`${name}-taxes`);
    }
    const start = new Date(Date.now() - 30 * 86400e3).toISOString().slice(0, 10);
    await page.fill('#start_date', start);
    await page.click('button[value=save]');
    await page.waitForURL('**/setup/review');
    const review = await page.content();
    expect(!review.includes('problem to fix') && !review.includes('problems to fix'), `${name}: the review finds nothing to fix`);
    await shot(`${name}-review`);
    await page.click('button:has-text("Save + Continue")');
    await page.waitForURL(url);
    await page.click('button:has-text("Sync now")');
    await page.waitForLoadState();
    await page.waitForSelector('section.live', { state: 'detached', timeout: 180000 });
    await page.waitForLoadState();
    await shot(`${name}-dashboard`);
    await page.goto(url + '/documents');
    await shot(`${name}-documents`);
    return page.content();
  };
  try {
    await page.goto(app + '/');
    await page.fill('#portal', tracktik);
    await page.click('button:has-text("Sign in with TrackTik")');
    await page.waitForSelector('#username');
    await page.fill('#username', 'demo');
    await page.fill('#password', 'demo');
    await page.click('button[type=submit]');
    await page.waitForSelector('button[value=allow]');
    await page.click('button[value=allow]');
    await page.waitForURL('**/integrations');
    const us = await setUp('9341453000000001', 'us');
    expect(!us.includes(' CAD<'), 'no Canadian document in the US company');
    const ca = await setUp('9341453000000002', 'ca');
    expect(!ca.includes(' USD<'), 'no US document in the Canadian company');
    await page.goto(app + '/integrations');
    await shot('integrations');
    console.log(`ok: ${step} steps, screenshots in ${out}`);
  } catch (e) {
    await shot('failure').catch(() => {});
    console.error(`step ${step + 1} failed: ${e.message}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
})();

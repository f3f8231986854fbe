// Firefox ESR driven by puppeteer-core over WebDriver BiDi, for tests/engines/firefox.py.
// Reads one JSON command a line on stdin ({id, op, ...}) and answers one JSON line on stdout
// ({id, ok, value} or {id, ok: false, error}); the first line out says the browser is ready.
// Commands run one at a time, in order. At the end of stdin (the test ended, or died) the browser
// is closed, so no Firefox outlives its test.
import readline from "node:readline";
import puppeteer from "puppeteer-core";

const options = JSON.parse(process.argv[2]);
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: options.executable,
  userDataDir: options.profile, // a fresh profile the test made: nothing kept between tests
  headless: true,
  acceptInsecureCerts: true, // the test's own certificate
});
const page = (await browser.pages())[0] ?? (await browser.newPage());
page.setDefaultTimeout(options.timeout);

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

// The document commands act in: the top one, or the one shown by the iframe `css` now.
async function frameOf(css) {
  if (!css) return page.mainFrame();
  const element = await page.$(css);
  if (!element) throw new Error(`no iframe matches ${css}`);
  const frame = await element.contentFrame();
  await element.dispose();
  if (!frame) throw new Error(`${css} holds no document`);
  return frame;
}

const operations = {
  goto: async ({ url }) => { await page.goto(url, { waitUntil: "load" }); },
  // A page Back brings from the back/forward cache fires no load event: the test waits for what
  // the page shows instead (tests/engines/page.py), so these only start the navigation.
  back: async () => { await page.evaluate(() => { setTimeout(() => history.back(), 0); }); },
  reload: async () => { await page.evaluate(() => { setTimeout(() => location.reload(), 0); }); },
  run: async ({ expression, frame }) => (await frameOf(frame)).evaluate(expression),
  fill: async ({ css, value, frame }) => {
    const field = await (await frameOf(frame)).locator(css).waitHandle();
    try {
      // Click first, as a person does: in a cross-site frame, focus() from a script (what
      // locator.fill does) leaves Firefox's focus on the top document, and the keys go there.
      await field.click();
      await field.evaluate((element) => { element.value = ""; });
      await field.type(value);
    } finally {
      await field.dispose();
    }
  },
  select: async ({ css, value, frame }) => { await (await frameOf(frame)).select(css, value); },
  click: async ({ css, frame }) => { await (await frameOf(frame)).locator(css).click(); },
};

send({ ready: true, pid: browser.process()?.pid ?? null, version: await browser.version() });
for await (const line of readline.createInterface({ input: process.stdin })) {
  const command = JSON.parse(line);
  if (command.op === "close") break;
  try {
    const value = await operations[command.op](command);
    send({ id: command.id, ok: true, value: value ?? null });
  } catch (error) {
    send({ id: command.id, ok: false, error: String(error?.message ?? error) });
  }
}
await browser.close();
process.exit(0);

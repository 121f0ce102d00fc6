/**
 * nn serve in a real browser: Debian's Chromium driven by playwright-core
 * (headless; no browser download). Digits are drawn with the mouse and, through
 * the DevTools protocol, with a finger; images are uploaded through the page's
 * file picker; a training run is watched on the runs page. Skipped when
 * /usr/bin/chromium is missing, unless NN_REQUIRE_BROWSER=1 (CI sets it).
 * A screenshot of the drawing page is kept in test-output/serve/.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Serving } from '../../src/serve/server';
import { BIN, REPO, SAMPLES, tinyConfig, workspace } from './fixture';

const CHROMIUM = process.env.NN_CHROMIUM ?? '/usr/bin/chromium';
const have = fs.existsSync(CHROMIUM);
if (!have && process.env.NN_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} is missing and NN_REQUIRE_BROWSER=1: install it with apt-get install -y chromium`);
const OUT = path.join(REPO, 'test-output', 'serve');

let work: string;
let server: Serving;
let browser: Browser;

beforeAll(async () => {
  if (!have) return;
  work = workspace('nn-serve-browser-');
  server = await startServer({ runs: path.join(work, 'runs'), model: path.join(work, 'runs/tiny'), port: 0, pollMs: 100 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-default-apps', '--disable-sync', '--no-first-run', '--metrics-recording-only'],
  });
  fs.mkdirSync(OUT, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type Stroke = Array<[number, number]>; // points as fractions of the pad
// a 7: the bar, then the stem
const SEVEN: Stroke[] = [[[0.2, 0.15], [0.8, 0.15], [0.42, 0.9]]];

async function open(p = '/', viewport = { width: 1000, height: 760 }, touch = false): Promise<Page> {
  const context = await browser.newContext({ viewport, hasTouch: touch });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  (page as unknown as { errors: string[] }).errors = errors;
  await page.goto(server.url.replace(/\/$/, '') + p);
  return page;
}

/** Draws strokes with the mouse inside a box of the pad (fractions: left, top, size). */
async function drawMouse(page: Page, strokes: Stroke[], box = { left: 0, top: 0, size: 1 }): Promise<void> {
  const pad = (await page.getByTestId('pad').boundingBox())!;
  const at = ([x, y]: [number, number]): [number, number] => [pad.x + (box.left + x * box.size) * pad.width, pad.y + (box.top + y * box.size) * pad.height];
  for (const s of strokes) {
    await page.mouse.move(...at(s[0]));
    await page.mouse.down();
    for (const p of s.slice(1)) await page.mouse.move(...at(p), { steps: 12 });
    await page.mouse.up();
  }
}

/** The answer shown once the requests settle: the guess and the ten probabilities. */
async function answer(page: Page): Promise<{ guess: string; probs: number[] }> {
  await page.waitForFunction(() => document.querySelector('[data-testid=guess]')!.textContent !== '');
  await page.waitForTimeout(400); // the last request (at most one in flight) has come back
  const guess = (await page.getByTestId('guess').textContent())!;
  const probs = await Promise.all(Array.from({ length: 10 }, (_, d) => page.getByTestId(`prob-${d}`).getAttribute('data-value').then(Number)));
  return { guess, probs };
}

describe.skipIf(!have)('the drawing page, in Chromium', () => {
  it('guesses a digit drawn with the mouse: ten probabilities that sum to 1, the 28x28 input and its saliency shown', async () => {
    const page = await open();
    await drawMouse(page, SEVEN);
    const a = await answer(page);
    expect(a.guess).toMatch(/^\d$/);
    expect(a.probs).toHaveLength(10);
    expect(a.probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
    expect(Math.max(...a.probs)).toBe(a.probs[Number(a.guess)]);
    // the input and saliency canvases were painted (not blank)
    const painted = await page.evaluate(() =>
      ['input28', 'saliency'].map((id) => {
        const c = document.querySelector(`[data-testid=${id}]`) as HTMLCanvasElement;
        return Array.from(c.getContext('2d')!.getImageData(0, 0, 28, 28).data).some((v, i) => i % 4 !== 3 && v > 0);
      }),
    );
    expect(painted).toEqual([true, true]);
    await page.screenshot({ path: path.join(OUT, 'draw.png') });
    expect((page as unknown as { errors: string[] }).errors).toEqual([]);
    await page.context().close();
  });

  it('gives the same digit drawn small in a corner and large in the centre', async () => {
    const page = await open();
    await drawMouse(page, SEVEN, { left: 0.05, top: 0.05, size: 0.8 });
    const large = await answer(page);
    await page.getByTestId('clear').click();
    await page.getByTestId('width').fill('8'); // strokes scale with the digit
    await drawMouse(page, SEVEN, { left: 0.6, top: 0.6, size: 0.35 });
    const small = await answer(page);
    expect(small.guess).toBe(large.guess);
    await page.context().close();
  });

  it('Clear resets the guess; Undo takes back the last stroke', async () => {
    const page = await open();
    await drawMouse(page, SEVEN);
    await answer(page);
    await page.getByTestId('clear').click();
    expect(await page.getByTestId('guess').textContent()).toBe('');
    const probs = await Promise.all(Array.from({ length: 10 }, (_, d) => page.getByTestId(`prob-${d}`).getAttribute('data-value')));
    expect(probs).toEqual(Array(10).fill('0'));
    await drawMouse(page, SEVEN);
    await answer(page);
    await page.getByTestId('undo').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=guess]')!.textContent === '');
    await page.context().close();
  });

  it('keeps at most one request in flight while drawing, and drops a late answer to a drawing since cleared', async () => {
    const page = await open();
    let inFlight = 0;
    let most = 0;
    let requests = 0;
    await page.route('**/api/predict', async (route) => {
      requests++;
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 250)); // a slow server
      await route.continue();
      inFlight--;
    });
    await drawMouse(page, SEVEN); // a long stroke: many moves, each a change
    await answer(page);
    expect(requests).toBeGreaterThan(1); // it did ask again while drawing
    expect(most).toBe(1);
    // a new stroke, then Clear while its request is under way: the answer that comes back is not shown
    await drawMouse(page, [[[0.5, 0.2], [0.5, 0.8]]]);
    await page.getByTestId('clear').click();
    await page.waitForTimeout(800);
    expect(await page.getByTestId('guess').textContent()).toBe('');
    await page.context().close();
  });

  it('draws with a finger (touch events through the DevTools protocol) and the page does not scroll', async () => {
    const page = await open('/', { width: 420, height: 480 }, true); // narrow: the page is taller than the window
    const scrollable = await page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight);
    expect(scrollable).toBe(true);
    const cdp = await page.context().newCDPSession(page);
    // an upward finger stroke from the element's middle, 160 px or to the window's top: a scroll down, where the page lets it
    const swipe = async (testid: string) => {
      const box = (await page.locator(`[data-testid=${testid}], ${testid}`).first().boundingBox())!;
      const x = box.x + box.width / 2;
      const from = box.y + box.height / 2;
      const to = Math.max(5, from - 160);
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y: from, id: 1 }] });
      for (let k = 1; k <= 20; k++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: x + 2 * Math.sin(k), y: from + ((to - from) * k) / 20, id: 1 }] });
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await page.waitForTimeout(300);
    };
    // the same gesture on the heading scrolls the page: the check below can see a scroll
    await swipe('h1');
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(20);
    await page.evaluate(() => window.scrollTo(0, 0));
    await swipe('pad');
    const a = await answer(page);
    expect(a.guess).toMatch(/^\d$/);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    await page.context().close();
  });

  it('gives an uploaded transparent PNG and a white-on-black PNG the answer it gives black on white', async () => {
    const grey = await sharp(path.join(SAMPLES, 'digit-2.png')).greyscale().raw().toBuffer({ resolveWithObject: true });
    const { width, height } = grey.info;
    const blackOnWhite = await sharp(grey.data, { raw: { width, height, channels: 1 } }).png().toBuffer();
    const whiteOnBlack = await sharp(grey.data.map((v) => 255 - v), { raw: { width, height, channels: 1 } }).png().toBuffer();
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba[4 * i + 3] = 255 - grey.data[i]; // black ink, transparent paper (a canvas export)
    const transparent = await sharp(rgba, { raw: { width, height, channels: 4 } }).png().toBuffer();
    const page = await open();
    const answers = [];
    for (const [name, buffer] of [['black-on-white.png', blackOnWhite], ['white-on-black.png', whiteOnBlack], ['transparent.png', transparent]] as const) {
      await page.getByTestId('clear').click();
      await page.getByTestId('upload').setInputFiles({ name, mimeType: 'image/png', buffer });
      answers.push(await answer(page));
    }
    expect(answers[1].guess).toBe(answers[0].guess);
    expect(answers[2].guess).toBe(answers[0].guess);
    for (const a of answers.slice(1)) a.probs.forEach((p, d) => expect(Math.abs(p - answers[0].probs[d])).toBeLessThan(0.01));
    await page.context().close();
  });
});

describe.skipIf(!have)('the runs page, in Chromium', () => {
  it('shows a run that is training and its epochs, without a reload', async () => {
    const page = await open('/runs');
    await page.waitForSelector('[data-run="tiny"]');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
    fs.writeFileSync(path.join(work, 'watched.json'), JSON.stringify(tinyConfig(3)));
    const train = spawn(process.execPath, [BIN, 'train', '--config', 'watched.json', '--no-charts', '--quiet'], { cwd: work });
    const closed = new Promise((r) => train.on('close', r));
    await page.waitForSelector('[data-run="watched"]', { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-run="watched"] [data-testid=epochs]')?.textContent === '3', null, { timeout: 60_000 });
    expect(await closed).toBe(0);
    await page.waitForFunction(() => document.querySelector('[data-run="watched"] .state')?.textContent === 'finished', null, { timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    await page.screenshot({ path: path.join(OUT, 'runs.png'), fullPage: true });
    await page.context().close();
  }, 90_000);
});

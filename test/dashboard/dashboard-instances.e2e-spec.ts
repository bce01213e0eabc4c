/// <reference lib="dom" />
/**
 * The dashboard's Instances view, in Chromium: two apps (two instances) on one SQLite
 * file; B's dashboard lists both as alive with their running tasks, and "show tasks" of A
 * filters the task table by A's instance (the picker follows, the address keeps it).
 * Without a database the tab and the picker stay hidden.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { TaskStorage } from '../../lib/engine/task-storage';
import { describeBrowser, launchBrowser, openPage, TrackedPage, waitReady } from '../support/browser';
import { gate, createHttpApp, HttpApp, startHeld } from '../support/http-app';
import { pollUntil } from '../support/crash-child';
import request from 'supertest';

describeBrowser('dashboard: the instances view', () => {
  let dir: string;
  let a: HttpApp;
  let b: HttpApp;
  let memory: HttpApp;
  let browser: Browser;
  let tracked: TrackedPage | null = null;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskflow-instances-'));
    const options = { snapshotDb: path.join(dir, 'tasks.db'), instanceLeaseSeconds: 3 };
    a = await createHttpApp(options);
    b = await createHttpApp(options);
    [memory, browser] = await Promise.all([createHttpApp({}), launchBrowser()]);
  });
  afterAll(async () => {
    gate('instances-view').open();
    await browser?.close();
    await Promise.all([a?.close(), b?.close(), memory?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    expect(tracked?.errors ?? []).toEqual([]);
    await tracked?.close();
    tracked = null;
  });

  it("lists both instances on B's dashboard, and filters the table by one", async () => {
    const held = await startHeld(a.manager, 'instances-view');
    const idA = a.app.get(TaskStorage).instanceId;
    // Both apps live in this process: B's start took A's row for a dead predecessor's (same pid) until A's next heartbeat.
    await pollUntil('both instances listed', async () => (await request(b.server).get('/tasks/instances').expect(200)).body.length === 2);
    tracked = await openPage(browser);
    const { page } = tracked;
    await page.goto(`${b.url}/tasks/dashboard`);
    await waitReady(page);
    await page.locator('#tab-instances').click();
    const rows = page.locator('#inst-body tr[data-instance]');
    await rows.nth(1).waitFor();
    expect(await rows.count()).toBe(2);
    const rowA = page.locator(`#inst-body tr[data-instance="${idA}"]`);
    expect(await rowA.locator('.badge').textContent()).toBe('alive');
    expect(await rowA.locator('td.num').first().textContent()).toBe('1');
    expect(await rowA.locator('.mono').getAttribute('title')).toBe(idA);
    expect(page.url()).toContain('tab=instances');

    await rowA.getByRole('button', { name: 'show tasks' }).click();
    await page.waitForFunction((id) => new URL(location.href).searchParams.get('instance') === id, idA);
    await page.locator(`#tasks-body tr[data-id="${held}"]`).waitFor();
    expect(await page.locator('#f-instance').inputValue()).toBe(idA);
    const shown = await page.locator('#tasks-body tr[data-id]').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.id));
    const ofA = (await request(b.server).get('/tasks').query({ instance: idA }).expect(200)).body.map((r: { task_id: string }) => r.task_id);
    expect(shown).toEqual(ofA);
  });

  it('hides the tab and the picker without a database', async () => {
    tracked = await openPage(browser);
    const { page } = tracked;
    const listed = page.waitForResponse((r) => r.url().endsWith('/tasks/instances'));
    await page.goto(`${memory.url}/tasks/dashboard`);
    await waitReady(page);
    expect(await (await listed).json()).toEqual([]);
    expect(await page.locator('#tab-instances').isHidden()).toBe(true);
    expect(await page.locator('#f-instance-field').isHidden()).toBe(true);
  });
});

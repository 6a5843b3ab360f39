import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { registerWebUi, WEB_ROUTES } from './web-ui';

const logger = pino({ level: 'silent' });

describe('registerWebUi', () => {
  let root: string;
  let app: FastifyInstance;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'web-ui-'));
    const dist = join(root, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dist, 'favicon.svg'), '<svg/>');
    app = Fastify();
    await registerWebUi(app, logger, dist);
    app.get('/api/products', async () => []);
    await app.ready();
  });
  after(async () => {
    await app?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers index.html, never cached, on every client route', async () => {
    for (const route of WEB_ROUTES) {
      const res = await app.inject({ method: 'GET', url: route.replace(/:[a-zA-Z]+/g, 'x-1') });
      assert.equal(res.statusCode, 200, route);
      assert.match(res.headers['content-type'] as string, /text\/html/, route);
      assert.equal(res.headers['cache-control'], 'no-cache', route);
      assert.match(res.body, /id="root"/);
    }
  });

  it('serves built files, hashed assets cached as immutable', async () => {
    const js = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    assert.equal((await app.inject({ method: 'GET', url: '/favicon.svg' })).headers['cache-control'], 'no-cache');
  });

  it('leaves every other path to the API: unknown paths and methods stay 404, API routes untouched', async () => {
    for (const url of ['/nope', '/api/nope', '/assets/missing.js', '/shop/x', '/pay', '/operator/sagas']) {
      assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
    }
    assert.equal((await app.inject({ method: 'POST', url: '/shop' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/api/products' })).body, '[]');
  });

  it('without a build registers nothing', async () => {
    const bare = Fastify();
    await registerWebUi(bare, logger, join(root, 'missing'));
    await bare.ready();
    assert.equal((await bare.inject({ method: 'GET', url: '/' })).statusCode, 404);
    await bare.close();
  });
});

import { it } from 'vitest';
import { launchBrowserWorkers } from '../../worker-browser/launch.js';
import { browserTestConfig, ensureWorkerPageBuilt, startTestCoordinator } from './helpers.js';
it('smoke', async () => {
  await ensureWorkerPageBuilt();
  const tc = await startTestCoordinator(browserTestConfig({ minClients: 1, rounds: 2 }));
  const t0 = Date.now();
  const tabs = await launchBrowserWorkers({ pageUrl: tc.pageUrl, count: 1, coordinatorUrl: tc.coordinatorUrl, log: (i, l) => console.log(`[tab ${i}] ${(Date.now()-t0)} ${l}`) });
  const timer = setInterval(async () => { const s = (await tabs.states())[0]; console.log(Date.now()-t0, s?.connection, s?.stage, s?.round, s?.lastError, s?.log.at(-1)); }, 2000);
  const s = await Promise.race([tc.coordinator.done, new Promise(r => setTimeout(r, 100_000))]);
  clearInterval(timer);
  console.log('done', Date.now() - t0, JSON.stringify(s));
  console.log(JSON.stringify((await tabs.states())[0], null, 1));
  await tabs.close(); await tc.close();
}, 180_000);

import { it } from 'vitest';
import { launchBrowserWorkers } from '../../worker-browser/launch.js';
import { browserTestConfig, ensureWorkerPageBuilt, startTestCoordinator } from '../../test/browser/helpers.js';
it('smoke', async () => {
  await ensureWorkerPageBuilt();
  const tc = await startTestCoordinator(browserTestConfig({ minClients: 1, rounds: 2 }));
  console.log('page', tc.pageUrl, tc.coordinatorUrl);
  const tabs = await launchBrowserWorkers({ pageUrl: tc.pageUrl, count: 1, coordinatorUrl: tc.coordinatorUrl, log: (i, l) => console.log(`[tab ${i}] ${l}`) });
  const t0 = Date.now();
  const s = await tc.coordinator.done;
  console.log('done', Date.now() - t0, JSON.stringify(s));
  console.log(JSON.stringify((await tabs.states())[0], null, 1));
  await tabs.close(); await tc.close();
}, 180_000);

// Puppeteer never downloads a browser here: Cohort finds a system Chromium itself
// (CHROME_PATH, puppeteer's cache, /usr/lib/chromium/chromium, or apt). See worker-browser/chromium.ts.
module.exports = { skipDownload: true };

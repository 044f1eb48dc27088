/** Child process for the concurrency test: `node --import tsx child-download.ts <endpoint> <cacheDir> <repo> <file>`. */
import { hubDownload } from '../../src/sources/hub.js';

const [endpoint, cacheDir, repo, file] = process.argv.slice(2);
if (!endpoint || !cacheDir || !repo || !file)
  throw new Error('usage: child-download <endpoint> <cacheDir> <repo> <file>');
let started = false;
const path = await hubDownload(repo, file, {
  endpoint,
  cacheDir,
  env: {},
  onProgress: (e) => {
    if (!started && e.bytes > 0) process.stderr.write('downloading\n');
    started ||= e.bytes > 0;
  },
});
process.stdout.write(JSON.stringify({ path, downloaded: started }));

// Imported first by the sample's test: the sample reads these when its module is loaded.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sampleDir = mkdtempSync(join(tmpdir(), 'taskflow-sample-'));
process.env.SAMPLE_DB = join(sampleDir, 'tasks.db');
process.env.TASKFLOW_SECRET = 'sample-test-secret';

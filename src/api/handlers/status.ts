/** /api/v1/status/*, /targets, /rules and /alerts: facts about the server, in Prometheus's shapes. */
import { badData } from '../../errors.js';
import type { ApiHandler } from '../handler.js';
import { invalidParam, parseGoInt } from '../params.js';

/** Without `features` or `application`, Grafana treats the server as a vanilla Prometheus. */
export const buildInfo: ApiHandler = async (_req, deps) => ({
  data: {
    version: deps.info.version,
    revision: deps.info.revision,
    branch: 'main',
    buildUser: 'metricstor',
    buildDate: '',
    goVersion: `node${process.versions.node}`,
  },
});

export const configYaml: ApiHandler = async (_req, deps) => ({ data: { yaml: deps.info.configYaml } });

export const flags: ApiHandler = async (_req, deps) => ({ data: { ...deps.info.flags } });

export const runtimeInfo: ApiHandler = async (_req, deps) => ({
  data: {
    startTime: new Date(deps.info.startTimeMs).toISOString(),
    CWD: process.cwd(),
    reloadConfigSuccess: true,
    lastConfigTime: new Date(deps.info.startTimeMs).toISOString(),
    corruptionCount: 0,
    goroutineCount: 0,
    GOMAXPROCS: 1,
    GOGC: '',
    GODEBUG: '',
    storageRetention: deps.info.storageRetention,
  },
});

const DEFAULT_TSDB_LIMIT = 10;
const MAX_TSDB_LIMIT = 10_000;

export const tsdbStatus: ApiHandler = async (req, deps) => {
  let limit = DEFAULT_TSDB_LIMIT;
  const text = req.params.get('limit');
  if (text !== '') {
    try {
      limit = parseGoInt(text);
    } catch (err) {
      throw invalidParam('limit', (err as Error).message);
    }
    if (limit < 1 || limit > MAX_TSDB_LIMIT) {
      throw badData(`limit must be a positive number less than or equal to ${MAX_TSDB_LIMIT}`);
    }
  }
  const stats = await deps.storage.stats(limit);
  return {
    data: {
      headStats: {
        numSeries: stats.numSeries,
        numLabelPairs: stats.labelValueCountByLabelName.reduce((sum, e) => sum + e.value, 0),
        chunkCount: 0,
        minTime: 0,
        maxTime: 0,
      },
      seriesCountByMetricName: stats.seriesCountByMetricName,
      labelValueCountByLabelName: stats.labelValueCountByLabelName,
      memoryInBytesByLabelName: [],
      seriesCountByLabelValuePair: stats.seriesCountByLabelValuePair,
    },
  };
};

/** Metricstor does not scrape: both lists are always present and empty. */
export const targets: ApiHandler = async () => ({ data: { activeTargets: [], droppedTargets: [] } });

/** Metricstor evaluates no rules; `type` is still validated as Prometheus does. */
export const rules: ApiHandler = async (req) => {
  const type = req.params.get('type').toLowerCase();
  if (type !== '' && type !== 'alert' && type !== 'record') {
    throw invalidParam('type', `not supported value ${JSON.stringify(type)}`);
  }
  return { data: { groups: [] } };
};

export const alerts: ApiHandler = async () => ({ data: { alerts: [] } });

export const targetsMetadata: ApiHandler = async () => ({ data: [] });

export const scrapePools: ApiHandler = async () => ({ data: { scrapePools: [] } });

export const alertmanagers: ApiHandler = async () => ({ data: { activeAlertmanagers: [], droppedAlertmanagers: [] } });

/** There is no write-ahead log to replay at start; report it as done. */
export const walReplay: ApiHandler = async () => ({ data: { min: 0, max: 0, current: 0 } });

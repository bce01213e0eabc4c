import { AttemptTracer } from '../../engine/attempt-tracer';
import { isTaskWorkerThread } from '../../executors/worker-thread';
import { loadOptionalPeer } from '../optional-peer';
import { packageVersion } from '../package-version';
import { OpenTelemetryApi, OpenTelemetryAttemptTracer } from './attempt-spans';

/**
 * The tracer of attempts when `@opentelemetry/api` is installed, else null (the engine then
 * traces nothing, at the cost of a null check per attempt). A worker thread runs no attempt
 * of the engine's, so it loads nothing.
 */
export function createAttemptTracer(): AttemptTracer | null {
  if (isTaskWorkerThread()) return null;
  const api = loadOptionalPeer<OpenTelemetryApi>('@opentelemetry/api');
  return api ? new OpenTelemetryAttemptTracer(api, packageVersion()) : null;
}

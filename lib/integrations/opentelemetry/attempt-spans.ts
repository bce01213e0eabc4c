import { Logger } from '@nestjs/common';
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { LOGGER_CONTEXT } from '../../constants';
import { AttemptOutcome, AttemptSpan, AttemptTracer } from '../../engine/attempt-tracer';
import { formatError } from '../../engine/format-error';
import { TaskData } from '../../task/task-record';

export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/** The instrumentation scope of the spans. */
export const TRACER_NAME = 'nestjs-taskflow';

/** The span attributes, by what they hold. */
export const SPAN_ATTRIBUTES = {
  taskId: 'taskflow.task.id',
  funcName: 'taskflow.task.function',
  attempt: 'taskflow.task.attempt',
  status: 'taskflow.task.status',
  error: 'taskflow.task.error',
  errorType: 'error.type',
} as const;

/**
 * One span per attempt, named `taskflow.run <func_name>`, through the global tracer
 * provider of `@opentelemetry/api`. Its parent is the context active when the attempt
 * starts: the creating call's with propagateContext, none without (nor for scheduled,
 * requeued or claimed tasks). It links to the span that was active at that call, so a
 * task whose context was not kept still points at the request that created it.
 * While no provider is registered nothing is created, and a failing SDK (a span
 * processor that throws) is logged once and never fails the task.
 */
export class OpenTelemetryAttemptTracer implements AttemptTracer {
  private readonly logger = new Logger(LOGGER_CONTEXT);
  /** The provider the api answers with while none is registered. */
  private readonly noopProvider: unknown;
  private tracer: Tracer | null = null;
  private tracerOf: unknown = null;
  private warned = false;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly version: string,
  ) {
    this.noopProvider = new api.ProxyTracerProvider().getDelegate();
  }

  capture(): unknown {
    if (this.currentTracer() === null) return undefined;
    const spanContext = this.api.trace.getSpanContext(this.api.context.active());
    return spanContext && this.api.trace.isSpanContextValid(spanContext) ? spanContext : undefined;
  }

  isRecording(): boolean {
    return this.currentTracer() !== null;
  }

  begin(task: TaskData, attempt: number, link: unknown): AttemptSpan | null {
    const tracer = this.currentTracer();
    if (tracer === null) return null;
    try {
      const parent = this.api.context.active();
      const span = tracer.startSpan(
        `taskflow.run ${task.funcName}`,
        {
          kind: this.api.SpanKind.CONSUMER,
          attributes: { [SPAN_ATTRIBUTES.taskId]: task.id, [SPAN_ATTRIBUTES.funcName]: task.funcName, [SPAN_ATTRIBUTES.attempt]: attempt },
          links: link === undefined ? undefined : [{ context: link as SpanContext }],
        },
        parent,
      );
      return new OpenTelemetryAttemptSpan(this.api, span, this.api.trace.setSpan(parent, span), (error) => this.failed(error));
    } catch (error) {
      this.failed(error);
      return null;
    }
  }

  /** The registered provider's tracer, or null while none is registered (checked each time: one may be registered late). */
  private currentTracer(): Tracer | null {
    const provider = this.api.trace.getTracerProvider();
    // The global provider is a proxy; its delegate is the registered provider, or a no-op one.
    const proxy = provider as Partial<{ getDelegate(): unknown }>;
    const delegate = typeof proxy.getDelegate === 'function' ? proxy.getDelegate() : provider;
    if (delegate === this.noopProvider) return null;
    if (this.tracerOf !== delegate) {
      this.tracer = provider.getTracer(TRACER_NAME, this.version);
      this.tracerOf = delegate;
    }
    return this.tracer;
  }

  private failed(error: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(`OpenTelemetry failed to record a task's span (tasks are unaffected; logged once): ${formatError(error).text}`);
  }
}

class OpenTelemetryAttemptSpan implements AttemptSpan {
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly span: Span,
    private readonly active: Context,
    private readonly failed: (error: unknown) => void,
  ) {}

  run<R>(fn: () => R): R {
    return this.api.context.with(this.active, fn);
  }

  end(outcome: AttemptOutcome, error: unknown): void {
    try {
      this.span.setAttribute(SPAN_ATTRIBUTES.status, outcome);
      if (outcome === 'failed' || outcome === 'retrying') {
        const { text } = formatError(error);
        this.span.recordException(error instanceof Error ? error : { name: 'Error', message: text });
        this.span.setAttributes({ [SPAN_ATTRIBUTES.error]: text, [SPAN_ATTRIBUTES.errorType]: errorType(error) });
        this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: text });
      }
      this.span.end();
    } catch (failure) {
      this.failed(failure);
    }
  }
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.name || error.constructor?.name || 'Error' : 'Error';
}

import { Get, Inject, Injectable, Type, UseFilters } from '@nestjs/common';
import { TASKFLOW_OPTIONS } from '../../constants';
import type { ResolvedTaskOptions } from '../../options/resolve-options';
import { TaskflowExceptionFilter } from '../../web/taskflow-exception.filter';
import { packageVersion } from '../package-version';
import { buildOpenApiDocument, mountedRoutes } from './openapi-document';

/** The admin controllers of this module instance, which the document describes. */
export const TASKFLOW_ADMIN_CONTROLLERS = Symbol('TASKFLOW_ADMIN_CONTROLLERS');

/**
 * `GET {path}/openapi.json`: the admin API as an OpenAPI 3.1 document, built once from
 * the routes this module instance mounts. Guarded like the other read routes.
 */
@Injectable()
@UseFilters(TaskflowExceptionFilter)
export class OpenApiController {
  private document: Record<string, unknown> | null = null;

  constructor(
    @Inject(TASKFLOW_OPTIONS) private readonly options: ResolvedTaskOptions,
    @Inject(TASKFLOW_ADMIN_CONTROLLERS) private readonly controllers: Type[],
  ) {}

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    this.document ??= buildOpenApiDocument(this.options.path, mountedRoutes(this.controllers), {
      title: this.options.title,
      version: packageVersion(),
    });
    return this.document;
  }
}

import { SetMetadata } from '@nestjs/common';

export const TASKFLOW_BODY_LIMIT = Symbol('nestjs-taskflow:body-limit');

/** The most bytes of request body a route reads, whatever the app's own limit (applied on Fastify per route). */
export const BodyLimit = (bytes: number) => SetMetadata(TASKFLOW_BODY_LIMIT, bytes);

import { BadRequestException, type DynamicModule, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBodyParser } from 'fastify';
import type { Server } from 'node:http';
import type { Log } from '../log';
import type { Metrics } from '../metrics/metrics';
import { observeRequests } from './observe-requests';
import { refuseNul } from './refuse-nul';

const BODY_LIMIT_BYTES = 64 * 1024;

export interface HttpAppOptions {
  /** Routes (their full path) whose bodies may be larger than the 64 KiB of the others, in bytes. */
  bodyLimits?: Readonly<Record<string, number>>;
}

/**
 * A Nest application on Fastify: Express cost this server ~70 µs of event loop per request
 * before any of its own work, Fastify ~5. JSON and form bodies up to 64 KiB (more on the
 * routes given `bodyLimits`) are parsed (a repeated form field becomes a list, which the
 * endpoints refuse; a JSON body must be an object or an array); a body of any other type is
 * read and left unparsed, so that each endpoint answers a wrong content type itself. An empty
 * JSON body (`Content-Type: application/json` with `Content-Length: 0`, as curl, fetch and
 * many HTTP clients send a body-less POST) is no body: every endpoint whose body is optional
 * takes it as such, and one that needs a body refuses it as it refuses a missing one. Errors
 * while a body is read reach the HttpErrorFilter through Nest's exception layer.
 */
export async function createHttpApp(
  module: DynamicModule,
  metrics: Metrics,
  log: Log,
  logger: LoggerService,
  options: HttpAppOptions = {},
): Promise<NestFastifyApplication> {
  // No Express-style middleware here: without middie, no request pays for looking for one.
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, skipMiddie: true });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger });
  const fastify = app.getHttpAdapter().getInstance();
  // Nest registers its routes at init, after this hook: a route's own limit wins over its parser's.
  const bodyLimits = options.bodyLimits ?? {};
  fastify.addHook('onRoute', (route) => {
    if (Object.hasOwn(bodyLimits, route.url)) route.bodyLimit = bodyLimits[route.url];
  });
  // Fastify's own JSON parser (it refuses __proto__ and constructor.prototype), strict on top.
  const json = fastify.getDefaultJsonParser('error', 'error');
  const strictJson: FastifyBodyParser<Buffer, Server> = (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    json(request, body.toString('utf8'), (error, value) => {
      if (!error && (typeof value !== 'object' || value === null)) {
        return done(new BadRequestException({ error: 'invalid_request', error_description: 'the body is not valid JSON (a JSON object is expected)' }), undefined);
      }
      done(error, value);
    });
  };
  for (const type of ['application/json', /^application\/[\w.-]+\+json$/]) app.useBodyParser<Server>(type, { bodyLimit: BODY_LIMIT_BYTES }, strictJson);
  observeRequests(fastify, metrics, log);
  refuseNul(fastify);
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
  app.enableShutdownHooks();
  return app;
}

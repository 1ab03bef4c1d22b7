import { Body, Controller, Get, Headers, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import {
  AuthorizeCommand,
  ClientAuthenticator,
  PARAMETERS_READ_MODEL,
  ThrottledError,
  checkAuthorizationRequest,
  errorRedirect,
  type ParametersReadModel,
} from '@authz/application';
import type { AuthenticatedRequest } from './admin.guard';
import { errorPage, loginPage } from './login-page';
import { requestContext } from './request-context';

function html(res: FastifyReply, status: number, body: string): void {
  res
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .header('X-Frame-Options', 'DENY')
    .header('Content-Security-Policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
    .send(body);
}

/** RFC 6749 §4.1.1 and §4.2.1: the user signs in, then goes back to the client with a code or a token. */
@Controller('oauth/authorize')
export class AuthorizeController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly clients: ClientAuthenticator,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
  ) {}

  @Get()
  async form(@Query() query: Record<string, unknown>, @Res() res: FastifyReply) {
    const { values } = await this.parameters.current();
    const check = await checkAuthorizationRequest(query, this.clients, values.oauthWithRefreshLoginFlow === 'Enabled');
    if (!check.ok && check.redirect) return res.redirect(errorRedirect(check), 302);
    if (!check.ok) return html(res, 400, errorPage(check.error, check.description));
    html(res, 200, loginPage(query, check.client.details!.clientName));
  }

  @Post()
  async login(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest, @Res() res: FastifyReply) {
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '') || typeof body !== 'object' || body === null) {
      return html(res, 400, errorPage('invalid_request', 'the sign-in form must be posted as application/x-www-form-urlencoded'));
    }
    const form = body as Record<string, unknown>;
    const username = typeof form.username === 'string' ? form.username : '';
    const password = typeof form.password === 'string' ? form.password : '';
    let result;
    try {
      result = await this.commandBus.execute(new AuthorizeCommand(form, username, password, requestContext(req)));
    } catch (error) {
      if (error instanceof ThrottledError) {
        res.header('Retry-After', String(error.retryAfterSeconds));
        return html(res, 429, errorPage('too_many_requests', `too many failed sign-ins; try again in ${error.retryAfterSeconds} seconds`));
      }
      if ((error as Error).name !== 'DirectoryUnavailableError') throw error;
      return html(res, 503, errorPage('temporarily_unavailable', 'the user directory does not answer; try again shortly'));
    }
    if (result.outcome === 'redirect') return res.redirect(result.location, 302);
    if (result.outcome === 'error_page') return html(res, 400, errorPage(result.error, result.description));
    // Unknown user and wrong password look the same.
    html(res, 401, loginPage(form, String(form.client_id ?? ''), 'Wrong username or password.'));
  }
}

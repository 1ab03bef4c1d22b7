import { Body, Controller, Get, Headers, Inject, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  AuthorizeCommand,
  ClientAuthenticator,
  PARAMETERS_READ_MODEL,
  ThrottledError,
  checkAuthorizationRequest,
  errorRedirect,
  type AuthorizationCheck,
  type ParametersReadModel,
} from '@authz/application';
import { Runtime } from '@authz/runtime';
import type { AuthenticatedRequest } from './admin.guard';
import { errorPage, loginPage } from './login-page';
import { requestContext } from './request-context';
import { ERROR_PAGE_POLICY, signInPagePolicy } from './signin-csp';
import { SignInCsrf, crossSiteRefusal, normalisedOrigin } from './signin-csrf';
import { SIGNIN_CSS } from './signin-style';

type ValidRequest = Extract<AuthorizationCheck, { ok: true }>;

function html(res: FastifyReply, status: number, body: string, policy: string): void {
  res
    .code(status)
    .header('Content-Type', 'text/html; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .header('X-Frame-Options', 'DENY')
    .header('X-Content-Type-Options', 'nosniff')
    // Not "no-referrer": with it, a browser posts the form with "Origin: null", which the check refuses.
    .header('Referrer-Policy', 'same-origin')
    .header('Content-Security-Policy', policy)
    .send(body);
}

const error = (res: FastifyReply, status: number, code: string, description: string) => html(res, status, errorPage(code, description), ERROR_PAGE_POLICY);

/** RFC 6749 §4.1.1 and §4.2.1: the user signs in, then goes back to the client with a code or a token. */
@Controller('oauth')
export class AuthorizeController {
  private readonly csrf: SignInCsrf;

  constructor(
    private readonly commandBus: CommandBus,
    private readonly clients: ClientAuthenticator,
    @Inject(PARAMETERS_READ_MODEL) private readonly parameters: ParametersReadModel,
    private readonly runtime: Runtime,
  ) {
    if (!runtime.kek) throw new Error('the sign-in form needs the key-encryption key (its CSRF key is derived from it)');
    this.csrf = new SignInCsrf(runtime.kek.key);
  }

  @Get('authorize')
  async form(@Query() query: Record<string, unknown>, @Req() req: FastifyRequest, @Res() res: FastifyReply) {
    const check = await this.check(query);
    if (!check.ok && check.redirect) return res.redirect(errorRedirect(check), 302);
    if (!check.ok) return error(res, 400, check.error, check.description);
    const cookie = this.csrf.cookieFor(req.headers.cookie);
    res.header('Set-Cookie', SignInCsrf.setCookie(cookie, this.secure(req)));
    this.signInPage(res, 200, check, query, cookie);
  }

  @Post('authorize')
  async login(@Body() body: unknown, @Headers('content-type') contentType: string | undefined, @Req() req: AuthenticatedRequest, @Res() res: FastifyReply) {
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType ?? '') || typeof body !== 'object' || body === null) {
      return error(res, 400, 'invalid_request', 'the sign-in form must be posted as application/x-www-form-urlencoded');
    }
    const form = body as Record<string, unknown>;
    // Refused before anything else, and never redirected: a forged POST must not reach the client.
    const crossSite = crossSiteRefusal(req.headers, this.ownOrigins(req));
    if (crossSite) return error(res, 403, 'access_denied', `${crossSite}; start again from the application`);
    if (!this.csrf.verify(req.headers.cookie, form)) {
      return error(res, 403, 'access_denied', 'the sign-in form has no valid anti-forgery token for this browser (cookies off, or the form was altered or not ours); start again from the application');
    }
    const username = typeof form.username === 'string' ? form.username : '';
    const password = typeof form.password === 'string' ? form.password : '';
    let result;
    try {
      result = await this.commandBus.execute(new AuthorizeCommand(form, username, password, requestContext(req)));
    } catch (failure) {
      if (failure instanceof ThrottledError) {
        res.header('Retry-After', String(failure.retryAfterSeconds));
        return error(res, 429, 'too_many_requests', `too many failed sign-ins; try again in ${failure.retryAfterSeconds} seconds`);
      }
      if ((failure as Error).name !== 'DirectoryUnavailableError') throw failure;
      return error(res, 503, 'temporarily_unavailable', 'the user directory does not answer; try again shortly');
    }
    if (result.outcome === 'redirect') return res.redirect(result.location, 302);
    if (result.outcome === 'error_page') return error(res, 400, result.error, result.description);
    // The form again, for the same request: its client's name and the CSP of its redirect URI
    // come from the check the command just passed (repeated here; only a failed sign-in pays it).
    const check = await this.check(form);
    if (!check.ok) return error(res, 400, check.error, check.description);
    // Unknown user and wrong password look the same.
    this.signInPage(res, 401, check, form, this.csrf.cookieFor(req.headers.cookie), { username, error: 'Wrong username or password.' });
  }

  @Get('assets/signin.css')
  stylesheet(@Res() res: FastifyReply) {
    res
      .header('Content-Type', 'text/css; charset=utf-8')
      .header('Cache-Control', 'public, max-age=86400')
      .header('X-Content-Type-Options', 'nosniff')
      .send(SIGNIN_CSS);
  }

  private async check(params: Record<string, unknown>): Promise<AuthorizationCheck> {
    const { values } = await this.parameters.current();
    return checkAuthorizationRequest(params, this.clients, values.oauthWithRefreshLoginFlow === 'Enabled');
  }

  private signInPage(res: FastifyReply, status: number, check: ValidRequest, params: Record<string, unknown>, cookie: string, failed?: { username: string; error: string }) {
    const { request, client } = check;
    const page = loginPage({
      params,
      clientName: client.details!.clientName,
      scopes: request.scope ? request.scope.split(' ') : [],
      redirectUri: request.redirectUri,
      csrfToken: this.csrf.token(cookie, params),
      ...failed,
    });
    html(res, status, page, signInPagePolicy(request.redirectUri));
  }

  /** This server as the browser sees it: the URL it was asked on, and the public one behind a proxy. */
  private ownOrigins(req: FastifyRequest): string[] {
    const origins = [normalisedOrigin(`${req.protocol}://${req.host}`)];
    if (this.runtime.config.issuerUrl) origins.push(normalisedOrigin(this.runtime.config.issuerUrl));
    return origins.filter((o): o is string => o !== undefined);
  }

  private secure(req: FastifyRequest): boolean {
    return req.protocol === 'https' || this.runtime.config.issuerUrl?.startsWith('https:') === true;
  }
}

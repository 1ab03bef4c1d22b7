import type { CommandGroup } from '../context';
import { clients } from './clients';
import { cluster } from './cluster';
import { health } from './health';
import { params } from './params';
import { purge } from './purge';
import { replay } from './replay';
import { set } from './set';
import { show } from './show';
import { users } from './users';
import { tokens } from './tokens';
import { audit } from './audit';

/**
 * Every command group, in the order `authz --help` lists them. A new group (tokens, audit,
 * purge, replay) is one file beside these and one line here.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [health, params, users, clients, tokens, audit, purge, replay, show, set, cluster];

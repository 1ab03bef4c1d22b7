import type { CommandGroup } from '../context';
import { health } from './health';
import { params } from './params';
import { users } from './users';

/**
 * Every command group, in the order `authz --help` lists them. A new group (tokens, keys,
 * clients, audit, cluster, purge, replay) is one file beside these and one line here.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [health, params, users];

import type { RefreshTokenView } from '../../ports';

/** Admin query over `refreshtokendetails`: the raw query parameters, validated by the handler. */
export class ListRefreshTokensQuery {
  constructor(readonly params: Record<string, unknown>) {}
}

export interface RefreshTokenPage {
  tokens: RefreshTokenView[];
  nextCursor: string | null;
}

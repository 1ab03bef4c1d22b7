export const CLIENT_REGISTERED = 'ClientRegistered';

export type ClientType = 'public' | 'confidential';
export type GrantType = 'authorization_code' | 'implicit' | 'refresh_token' | 'client_credentials';
export const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'];

/** v1. A confidential client's secret is not part of the event: only its hash is kept, beside the stream. */
export interface ClientRegisteredV1 {
  clientId: string;
  clientName: string;
  type: ClientType;
  redirectUris: string[];
  grantTypes: GrantType[];
  /** Space-separated scopes the client may ask for. */
  scope: string;
}

import { CLIENT_REGISTERED } from '@authz/contracts';
import { ValidationError } from '../errors';
import { Client, parseClientRegistration, parseScope } from './client';

const service = { clientName: 'Voicemail', type: 'confidential', grantTypes: ['client_credentials'], scope: 'vm.read vm.write' };
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as ValidationError).code;
  }
  return 'accepted';
};

describe('Client', () => {
  it('given no history, when a confidential client registers, then ClientRegistered has no secret', () => {
    const client = new Client();
    client.register(parseClientRegistration({ ...service, clientId: 'vm' }, 'generated'));
    expect(client.uncommittedEvents()).toEqual([
      {
        type: CLIENT_REGISTERED,
        schemaVersion: 1,
        data: { clientId: 'vm', clientName: 'Voicemail', type: 'confidential', redirectUris: [], grantTypes: ['client_credentials'], scope: 'vm.read vm.write' },
      },
    ]);
  });

  it('given a registered client, when registered again, then CLIENT_EXISTS', () => {
    const client = new Client().loadFromHistory([{ type: CLIENT_REGISTERED, data: parseClientRegistration(service, 'c1') }]);
    expect(codeOf(() => client.register(parseClientRegistration(service, 'c1')))).toBe('CLIENT_EXISTS');
  });

  it('grants the asked scopes when allowed, all of its scopes when none are asked, and nothing beyond', () => {
    const client = new Client().loadFromHistory([{ type: CLIENT_REGISTERED, data: parseClientRegistration(service, 'c1') }]);
    expect(client.grantScope([])).toEqual(['vm.read', 'vm.write']);
    expect(client.grantScope(['vm.read'])).toEqual(['vm.read']);
    expect(client.grantScope(['vm.read', 'admin'])).toBeNull();
    expect(client.allows('client_credentials')).toBe(true);
    expect(client.allows('implicit')).toBe(false);
  });

  it.each([
    [{ ...service, clientId: 'has space' }, 'INVALID_CLIENT_ID'],
    [{ ...service, clientName: '' }, 'INVALID_CLIENT_NAME'],
    [{ ...service, type: 'secret' }, 'INVALID_CLIENT_TYPE'],
    [{ ...service, grantTypes: ['password'] }, 'INVALID_GRANT_TYPES'],
    [{ ...service, grantTypes: [] }, 'INVALID_GRANT_TYPES'],
    [{ ...service, type: 'public', grantTypes: ['client_credentials'] }, 'INVALID_GRANT_TYPES'],
    [{ ...service, grantTypes: ['authorization_code'] }, 'INVALID_REDIRECT_URIS'],
    [{ ...service, grantTypes: ['implicit'], redirectUris: ['https://app.example/cb#frag'] }, 'INVALID_REDIRECT_URIS'],
    [{ ...service, grantTypes: ['implicit'], redirectUris: ['not a uri'] }, 'INVALID_REDIRECT_URIS'],
    [{ ...service, grantTypes: ['implicit'], redirectUris: ['javascript:alert(1)'] }, 'INVALID_REDIRECT_URIS'],
    [{ ...service, scope: 'a "b' }, 'INVALID_SCOPE'],
  ])('rejects %j with %s', (input, code) => {
    expect(codeOf(() => parseClientRegistration(input as Record<string, unknown>, 'generated'))).toBe(code);
  });

  it('parses scope strings strictly', () => {
    expect(parseScope('a b a')).toEqual(['a', 'b']);
    expect(parseScope(undefined)).toEqual([]);
    expect(() => parseScope('a  b')).toThrow(ValidationError);
    expect(() => parseScope(42)).toThrow(ValidationError);
  });
});
